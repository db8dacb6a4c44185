# CR-MOGM (Zhou et al., NeurIPS 2022): EMA-smoothed MGDA weights.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='CRMOGM', weighting='MGDA', alpha=0.9))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
