# Dynamic task prioritization from validation KPIs (the paper's: KPI = the metric itself).
# potentials_file=<single_task_results.json> with the hook's kpi_keys would make the KPI the
# achievement KPI / single-task KPI instead (docs/balancers.md).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='DTP', gamma=1.0))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
train_cfg = dict(val_interval=1)
custom_hooks = [
    dict(type='BalancerHook'),
    dict(type='TaskKPIHook', kpi_keys=dict(det='coco/bbox_mAP', enh='enh/ssim')),
]
