# UPGrad (TorchJD): mean of the task gradients each projected onto the dual cone of the Gramian.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='UPGrad'))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
