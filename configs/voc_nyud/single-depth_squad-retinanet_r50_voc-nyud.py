# Single-task baseline for delta_m and the AMTL potentials: the same model, data, pipeline
# and schedule as the multi-task configs with the depth task only (T = 1, the nyud_depth source).
# Record it with tools/analysis/record_single_task.py (docs/voc_nyud.md).
_base_ = ['./ew_squad-retinanet_r50_voc-nyud.py']
model = dict(neck=dict(tasks=['depth']),
             heads=dict(_delete_=True, depth={{_base_.model.heads.depth}}))
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, nyud_depth={{_base_.train_dataloader.dataset.sources.nyud_depth}})))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, nyud_depth={{_base_.val_dataloader.dataset.sources.nyud_depth}})))
test_dataloader = val_dataloader
val_evaluator = [dict(type='DepthMetric')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='depth/rmse', rule='less'))
