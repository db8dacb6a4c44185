# TorchJD's CAGrad (cvxpy / Clarabel), c = 0.5, no 1/(1+c^2) rescale; mtlunder's own is cagrad_*.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='TorchJDCAGrad', c=0.5))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
