# NYUD-v2 in the dense multi-task format (`python data_tools/convert_nyud.py`, see
# docs/data_preparation.md "NYUD-v2": 795 train / 654 val, 40 classes, depth in metres,
# normals, edges). Training: random scale 0.5-2, crop 425x560 (H x W; mmdet sizes are W, H),
# horizontal flip, as in the dense multi-task literature; evaluation at 480x640. The model
# config sets `dataset.tasks` (default: every task of meta.json).
dataset_type = 'DenseMultiTaskDataset'
data_root = 'data/nyud/'
crop_size = (560, 425)  # (W, H)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='RandomResize', scale=(640, 480), ratio_range=(0.5, 2.0), keep_ratio=True,
         resize_type='PairedResize'),
    dict(type='PairedPad', size=crop_size),
    dict(type='PairedRandomCrop', crop_size=crop_size),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                'img_shape', 'scale_factor', 'flip',
                                                'flip_direction'))
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='PackMultiTaskInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=6,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,  # the ASPP image-pool branch normalises over the batch: no batch of 1
    sampler=dict(type='SeededSampler', shuffle=True),  # augmentation seeded per draw
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [dict(type='SegMetric', num_classes=40), dict(type='DepthMetric')]
test_evaluator = val_evaluator
