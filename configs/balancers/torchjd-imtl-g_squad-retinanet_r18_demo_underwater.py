# TorchJD's IMTL-G on the Gram matrix; mtlunder's own is imtl-g_*.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='TorchJDIMTLG'))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
