# CPU demo of the VOC + NYUD-v2 mixture (what `make demo-voc-nyud` trains on two cores):
# ResNet-18 at half width from scratch -> SquadNeck (det | seg | depth | 2 shared groups of
# 32 channels) -> RetinaHead (20 VOC classes, P3-P5) + SegHead (FPNHead, 21 classes) +
# DepthHead, at 256 px, equal weighting. Data: `python data_tools/build_voc_nyud_demo.py`
# (real VOC images and boxes, STAND-IN VOC masks painted from the boxes, real NYUD-v2 depth;
# data/voc_nyud_demo/README.md says which is which).
_base_ = [
    '../_base_/models/squad-retinanet_r18_det-seg-depth.py',
    '../_base_/datasets/voc_nyud.py',
    '../_base_/schedules/schedule_demo_cpu.py',
    '../_base_/default_runtime.py',
]
demo_root = 'data/voc_nyud_demo/'
model = dict(
    backbone=dict(base_channels=32),
    neck=dict(in_channels=[64, 128, 256], num_outs=3),
    heads=dict(det=dict(num_classes=20, anchor_generator=dict(octave_base_scale=2,
                                                              strides=[8, 16, 32]))),
    balancer=dict(type='EW'))
custom_hooks = [dict(type='BalancerHook')]
scale = (256, 256)
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'source')
test_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'source')
det_train = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PairedResize', scale=scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs', meta_keys=meta_keys)
]
dense_train = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='RandomResize', scale=scale, ratio_range=(0.75, 1.25), keep_ratio=True,
         resize_type='PairedResize'),
    dict(type='PairedPad', size=(256, 192)),
    dict(type='PairedRandomCrop', crop_size=(256, 192)),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs', meta_keys=meta_keys)
]
det_test = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackMultiTaskInputs', meta_keys=test_meta_keys)
]
dense_test = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=scale, keep_ratio=True),
    dict(type='LoadDenseAnnotations'),
    dict(type='PackMultiTaskInputs', meta_keys=test_meta_keys)
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(sources=dict(
        voc_det=dict(dataset=dict(data_root=demo_root + 'voc/', pipeline=det_train)),
        voc_seg=dict(dataset=dict(data_root=demo_root + 'voc/', pipeline=dense_train)),
        nyud_depth=dict(dataset=dict(data_root=demo_root + 'nyud/', pipeline=dense_train)))))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(sources=dict(
        voc_det=dict(dataset=dict(data_root=demo_root + 'voc/', pipeline=det_test)),
        voc_seg=dict(dataset=dict(data_root=demo_root + 'voc/', pipeline=dense_test)),
        nyud_depth=dict(dataset=dict(data_root=demo_root + 'nyud/', pipeline=dense_test)))))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='TaskCocoMetric', ann_file=demo_root + 'voc/annotations/val.json',
         metric='bbox'),
    dict(type='SegMetric', num_classes=21),
    dict(type='DepthMetric'),
]
test_evaluator = val_evaluator
# 90 epochs x 5 batches = 450 iterations: the steps of the three single-task demo baselines
# together (150 each), so the comparison holds the training compute fixed
max_epochs = 90
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs * 9 // 10], gamma=0.1)
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=5),
                     checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1))
