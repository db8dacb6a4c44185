# Single-task detection baseline of the real demo (squad-retinanet_r18_demo_underwater-real.py):
# the model of single-det-retinanet_r18_demo_underwater.py trained on the detection images of
# the real mixed benchmark only (RUIE-UTTS; the LSUI / EUVP pairs carry no boxes), for the
# real demo's epochs; COCO box AP on the UTTS val images.
_base_ = '../squad/squad-retinanet_r18_demo_underwater-real.py'
model = dict(
    neck=dict(tasks=['det']),
    heads=dict(_delete_=True, det={{_base_.model.heads.det}}))
train_dataloader = dict(dataset=dict(
    _delete_=True,
    type='MixedMultiTaskDataset',
    sources=dict(utts=dict(tasks=['det'], dataset={{_base_.train_dataloader.dataset}}))))
val_evaluator = dict(
    _delete_=True,
    type='TaskCocoMetric',
    ann_file='data/underwater_real_demo/annotations/val.json',  # the base's data_root
    metric='bbox')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='coco/bbox_mAP'))
