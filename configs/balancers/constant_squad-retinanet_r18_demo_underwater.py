# Constant (TorchJD): fixed weights of the task gradients, given over all tasks (det, enh).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='Constant', weights=[1.0, 1.0]))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
