# STCH (Lin et al., ICML 2024): smooth Tchebycheff scalarization of the log-losses.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='STCH', mu=1.0, log_losses=True, warmup_epochs=1))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
