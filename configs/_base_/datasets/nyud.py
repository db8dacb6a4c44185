# NYUD-v2 in the dense multi-task format (`python data_tools/convert_nyud.py`, see
# docs/data_preparation.md "NYUD-v2": 795 train / 654 val, 40 classes, depth in metres,
# normals, edges). The model config sets `dataset.tasks` (default: every task of meta.json).
# Augmentation of the SquadNet reference code (utils/common_config.py, NYUD): horizontal
# flip, a zoom about the centre by a scale drawn from {1.0, 1.2, 1.5} (ScaleNRotate, no
# rotation; depth divided by the scale), then a fixed resize to 480x640 (H x W; mmdet sizes
# are W, H); the input is resampled bicubically, the labels by their kind's rule
# (mtlunder/structures/task_specs.py). Test: the same fixed resize of the input, scored
# against the labels at the original size (480x640 for NYUD-v2: nothing is resampled).
dataset_type = 'DenseMultiTaskDataset'
data_root = 'data/nyud/'
img_scale = (640, 480)  # (W, H)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PairedRandomScaleRotate', scale_choices=[1.0, 1.2, 1.5],
         interpolation='bicubic'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=False, interpolation='bicubic'),
    dict(type='PackMultiTaskInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                'img_shape', 'scale_factor', 'flip',
                                                'flip_direction'))
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=False, interpolation='bicubic'),
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
