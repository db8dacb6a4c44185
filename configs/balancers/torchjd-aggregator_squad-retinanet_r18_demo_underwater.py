# Any Jacobian aggregator or weighting of TorchJD through the aggregator adapter; here ConFIG.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='TorchJDAggregator', aggregator='ConFIG'))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
