# PCD (TorchJD): priority-constrained descent; follows the first task's (det's) normalised
# gradient, each other task guaranteed a fraction tau of its own first-order progress.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='PCD'))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
