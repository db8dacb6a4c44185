# PASCAL-Context in the PASCAL_MT layout of ASTMT (semseg, human parts, saliency, surface
# normals, edges), converted to the dense multi-task format with the bundled 59-class
# mapping (60 classes, 0 = background; docs/pascal_context.md):
#   python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context
# 4,998 train / 5,105 val images. The model config sets `dataset.tasks` (default: every
# task of meta.json).
# Augmentation of the SquadNet reference code (utils/common_config.py, PASCALContext):
# horizontal flip, rotation by an angle in (-20, 20) degrees and a zoom by a scale in
# (0.75, 1.25) about the centre (ScaleNRotate; normals turn with the image), then a fixed
# resize to 512x512 that does not keep the aspect ratio; the input is resampled
# bicubically, the labels by their kind's rule (mtlunder/structures/task_specs.py).
# Test: the same fixed resize of the input; predictions are resized back and scored
# against the labels at the original size.
dataset_type = 'PascalContextDataset'
data_root = 'data/pascal_context/'
img_scale = (512, 512)  # (W, H)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PairedRandomScaleRotate', scale_range=(0.75, 1.25), rotate_range=(-20, 20),
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
# Only the images with a human part (persons with PASCAL-Part parts) are labelled for
# `parts`, and ASPP's image-pool BatchNorm needs >= 2 labelled samples of a task in a
# training batch: TaskBalancedBatchSampler gives every batch a fixed share of each task
# group (images with and without parts, in proportion, at least two each).
train_dataloader = dict(
    batch_size=6,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='TaskBalancedBatchSampler', min_per_group=2),
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
val_evaluator = [
    dict(type='SegMetric', num_classes=60),               # seg/mIoU (background counts)
    dict(type='SegMetric', task='parts', num_classes=7),  # parts/mIoU
    dict(type='SaliencyMetric'),                          # sal/maxF, sal/mIoU
    dict(type='NormalMetric'),                            # normal/mean, median, ...
]
test_evaluator = val_evaluator
