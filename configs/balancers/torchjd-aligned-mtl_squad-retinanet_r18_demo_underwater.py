# TorchJD's Aligned-MTL (weights B 1/n); mtlunder's own is aligned-mtl_* (B 1).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='TorchJDAlignedMTL'))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
