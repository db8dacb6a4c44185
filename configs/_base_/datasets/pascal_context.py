# PASCAL-Context in the PASCAL_MT layout of ASTMT (semseg, human parts, saliency, surface
# normals, edges), converted to the dense multi-task format with the bundled 59-class
# mapping (60 classes, 0 = background; docs/pascal_context.md):
#   python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context
# 4,998 train / 5,105 val images. Training: random scale 0.75-1.25 of a 512 px long side,
# pad and crop to 512x512, horizontal flip (ASTMT's scale range and 512 px inputs, no
# rotation); evaluation at the original size, labels at the original size. The model
# config sets `dataset.tasks` (default: every task of meta.json).
dataset_type = 'PascalContextDataset'
data_root = 'data/pascal_context/'
crop_size = (512, 512)  # (W, H)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='RandomResize', scale=(512, 512), ratio_range=(0.75, 1.25), keep_ratio=True,
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
