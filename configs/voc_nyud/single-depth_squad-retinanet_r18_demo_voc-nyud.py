# Single-task baseline of the CPU demo (depth only, the nyud_depth source, T = 1): same model,
# pipeline and schedule as the multi-task demo. make demo-voc-nyud records it with
# tools/analysis/record_single_task.py for delta_m and the AMTL potentials.
_base_ = ['./squad-retinanet_r18_demo_voc-nyud.py']
model = dict(neck=dict(tasks=['depth']),
             heads=dict(_delete_=True, depth={{_base_.model.heads.depth}}))
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, nyud_depth={{_base_.train_dataloader.dataset.sources.nyud_depth}})))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, nyud_depth={{_base_.val_dataloader.dataset.sources.nyud_depth}})))
test_dataloader = val_dataloader
val_evaluator = [dict(type='DepthMetric')]
test_evaluator = val_evaluator
# 150 iterations, a third of the multi-task demo's 450 (90 epochs x 5 batches): 150 epochs of
# 1 batch of the 4 NYUD-v2 frames
max_epochs = 150
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs * 9 // 10], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs,
                                     save_best='depth/rmse', rule='less'))
