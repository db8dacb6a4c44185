# AMTL on the VOC + NYUD-v2 mixture: achievement-based weights, the potentials read from the
# recorded single-task runs (single_task_results.json, written by
# tools/analysis/record_single_task.py; docs/voc_nyud.md), KPIs from every validation.
_base_ = ['./ew_squad-retinanet_r50_voc-nyud.py']
kpi_keys = dict(det='coco/bbox_mAP', seg='seg/mIoU', depth='depth/delta1')
model = dict(balancer=dict(type='AMTL', potentials_file={{_base_.single_task_results}},
                           kpi_keys=kpi_keys))
custom_hooks = [dict(type='BalancerHook'), dict(type='TaskKPIHook', kpi_keys=kpi_keys)]
