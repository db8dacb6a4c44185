# Single-task baseline for delta_m and the AMTL potentials: the same model, data, pipeline
# and schedule as the multi-task configs with the seg task only (T = 1, the voc_seg source).
# Record it with tools/analysis/record_single_task.py (docs/voc_nyud.md).
_base_ = ['./ew_squad-retinanet_r50_voc-nyud.py']
model = dict(neck=dict(tasks=['seg']),
             heads=dict(_delete_=True, seg={{_base_.model.heads.seg}}))
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, voc_seg={{_base_.train_dataloader.dataset.sources.voc_seg}})))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, voc_seg={{_base_.val_dataloader.dataset.sources.voc_seg}})))
test_dataloader = val_dataloader
val_evaluator = [dict(type='SegMetric', num_classes=21)]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='seg/mIoU', rule='greater'))
