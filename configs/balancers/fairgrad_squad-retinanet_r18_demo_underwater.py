# FairGrad (TorchJD), alpha = 1 (proportional fairness).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='FairGrad', alpha=1.0))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
