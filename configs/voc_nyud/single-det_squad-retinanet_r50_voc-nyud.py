# Single-task baseline for delta_m and the AMTL potentials: the same model, data, pipeline
# and schedule as the multi-task configs with the det task only (T = 1, the voc_det source).
# Record it with tools/analysis/record_single_task.py (docs/voc_nyud.md).
_base_ = ['./ew_squad-retinanet_r50_voc-nyud.py']
model = dict(neck=dict(tasks=['det']),
             heads=dict(_delete_=True, det={{_base_.model.heads.det}}))
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, voc_det={{_base_.train_dataloader.dataset.sources.voc_det}})))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, voc_det={{_base_.val_dataloader.dataset.sources.voc_det}})))
test_dataloader = val_dataloader
val_evaluator = [dict(type='TaskCocoMetric', ann_file='data/voc/annotations/val.json',
                      metric='bbox')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='coco/bbox_mAP', rule='greater'))
