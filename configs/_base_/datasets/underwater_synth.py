# The synthetic underwater detection + enhancement benchmark
# (`python data_tools/synth_underwater.py --out data/underwater_synth --size 256 256`).
dataset_type = 'UnderwaterMultiTaskDataset'
data_root = 'data/underwater_synth/'
classes = ('holothurian', 'echinus', 'scallop', 'starfish')
img_scale = (256, 256)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadReferenceImage'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    # after Resize so that the true boxes stay in original pixels, as in mmdet
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackMultiTaskInputs',
         meta_keys=('img_id', 'img_path', 'ref_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'tasks'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),  # augmentation seeded per draw
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/train.json',
        data_prefix=dict(img='images/', ref='references/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=dict(classes=classes),
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/', ref='references/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# COCO box AP (pycocotools) and PSNR/SSIM in one evaluator, plus `combined/score` for
# best-checkpoint selection (0.5 * mAP@0.5 + 0.5 * min(PSNR gain / 10 dB, 1)).
val_evaluator = dict(
    type='Evaluator',
    metrics=dict(
        type='CombinedScoreMetric',
        metrics=[
            dict(type='TaskCocoMetric', ann_file=data_root + 'annotations/val.json',
                 metric='bbox', format_only=False),
            dict(type='EnhancementMetric'),
        ]))
test_evaluator = val_evaluator
