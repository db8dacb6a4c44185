# GradNorm with norms of the shared-representation gradients (cheap variant).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='GradNorm', alpha=1.5, grad_source='repr'))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
