# Dynamic task prioritization on the VOC + NYUD-v2 mixture, KPIs from every validation.
_base_ = ['./ew_squad-retinanet_r50_voc-nyud.py']
kpi_keys = dict(det='coco/bbox_mAP', seg='seg/mIoU', depth='depth/delta1')
model = dict(balancer=dict(type='DTP', gamma=1.0))
custom_hooks = [dict(type='BalancerHook'), dict(type='TaskKPIHook', kpi_keys=kpi_keys)]
