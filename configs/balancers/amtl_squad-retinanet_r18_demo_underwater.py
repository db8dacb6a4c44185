# Achievement-based MTL; potentials = recorded single-task KPIs (see docs/balancers.md).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(balancer=dict(type='AMTL', potentials_file='work_dirs/single_task_kpis.json',
                          kpi_keys=dict(det='coco/bbox_mAP', enh='enh/ssim')))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
train_cfg = dict(val_interval=1)
custom_hooks = [
    dict(type='BalancerHook'),
    dict(type='TaskKPIHook', kpi_keys=dict(det='coco/bbox_mAP', enh='enh/ssim')),
]
