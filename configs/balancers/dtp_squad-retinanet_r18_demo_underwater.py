# Dynamic task prioritization from validation KPIs.
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='DTP', gamma=1.0))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
train_cfg = dict(val_interval=1)
custom_hooks = [
    dict(type='BalancerHook'),
    dict(type='TaskKPIHook', kpi_keys=dict(det='coco/bbox_mAP', enh='enh/ssim')),
]
