# Achievement-based MTL; the potentials and the delta_m baselines are the recorded
# single-task demo runs (docs/balancers.md, docs/metrics.md), written by
#   python tools/analysis/record_single_task.py \
#       work_dirs/single-det-retinanet_r18_demo_underwater \
#       work_dirs/single-enh_r18_demo_underwater \
#       --out work_dirs/underwater_demo/single_task_results.json
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
single_task_results = 'work_dirs/underwater_demo/single_task_results.json'
kpi_keys = dict(det='coco/bbox_mAP', enh='enh/ssim')
model = dict(balancer=dict(type='AMTL', potentials_file=single_task_results,
                           kpi_keys=kpi_keys))
model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True)
train_cfg = dict(val_interval=1)
custom_hooks = [
    dict(type='BalancerHook'),
    dict(type='TaskKPIHook', kpi_keys=kpi_keys),
]
val_evaluator = dict(metrics=dict(
    _delete_=True, type='MultiTaskDeltaMetric', metrics=[{{_base_.val_evaluator.metrics}}],
    single_task_results=single_task_results,
    delta_keys=dict(det=['coco/bbox_mAP'], enh=['enh/psnr', 'enh/ssim'])))
test_evaluator = val_evaluator
