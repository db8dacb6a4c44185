# TorchJD's PCGrad, orders seeded by (seed, step); mtlunder's own is pcgrad_*.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='TorchJDPCGrad'))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
