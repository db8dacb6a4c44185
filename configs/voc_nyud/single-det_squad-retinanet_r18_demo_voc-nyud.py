# Single-task baseline of the CPU demo (det only, the voc_det source, T = 1): same model,
# pipeline and schedule as the multi-task demo. make demo-voc-nyud records it with
# tools/analysis/record_single_task.py for delta_m and the AMTL potentials.
_base_ = ['./squad-retinanet_r18_demo_voc-nyud.py']
model = dict(neck=dict(tasks=['det']),
             heads=dict(_delete_=True, det={{_base_.model.heads.det}}))
train_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, voc_det={{_base_.train_dataloader.dataset.sources.voc_det}})))
val_dataloader = dict(dataset=dict(sources=dict(
    _delete_=True, voc_det={{_base_.val_dataloader.dataset.sources.voc_det}})))
test_dataloader = val_dataloader
val_evaluator = [dict(type='TaskCocoMetric',
                      ann_file='data/voc_nyud_demo/voc/annotations/val.json', metric='bbox')]
test_evaluator = val_evaluator
# 150 iterations, a third of the multi-task demo's 450 (90 epochs x 5 batches): 75 epochs of
# 2 batches of the 8 VOC detection images
max_epochs = 75
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs * 9 // 10], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs,
                                     save_best='coco/bbox_mAP', rule='greater'))
