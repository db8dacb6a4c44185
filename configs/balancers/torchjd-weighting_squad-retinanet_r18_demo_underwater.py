# Any Gramian weighting of TorchJD through the adapter; here UPGrad with its default projector.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(
    balancer=dict(type='TorchJDWeighting', weighting='UPGrad', projector=dict(reg_eps=1e-4)))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
