# Generalized mean, p scheduled linearly from -0.5 to 0.5 over total_steps training
# iterations: set it to the run's max iterations (epochs x iterations per epoch).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='GeMTL', p_start=-0.5, p_end=0.5, total_steps=800))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
custom_hooks = [dict(type='BalancerHook')]
