# AMTL on the CPU demo mixture, with the potentials and delta_m baselines read from the
# recorded single-task demo runs (make demo-voc-nyud records them first).
_base_ = ['./squad-retinanet_r18_demo_voc-nyud.py']
single_task_results = 'work_dirs/voc_nyud_demo/single_task_results.json'
kpi_keys = dict(det='coco/bbox_mAP', seg='seg/mIoU', depth='depth/delta1')
model = dict(balancer=dict(_delete_=True, type='AMTL', potentials_file=single_task_results,
                           kpi_keys=kpi_keys))
custom_hooks = [dict(type='BalancerHook'), dict(type='TaskKPIHook', kpi_keys=kpi_keys)]
# KPIs at every 10th epoch: AMTL's weights follow the achievements from the first one on
train_cfg = dict(val_interval=10)
val_evaluator = dict(_delete_=True, metrics=dict(
    type='MultiTaskDeltaMetric', metrics={{_base_.val_evaluator}},
    single_task_results=single_task_results,
    delta_keys=dict(det=['coco/bbox_mAP'], seg=['seg/mIoU'],
                    depth=['depth/rmse', 'depth/abs_rel'])))
test_evaluator = val_evaluator
