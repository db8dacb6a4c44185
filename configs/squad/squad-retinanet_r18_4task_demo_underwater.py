# CPU demo of a 4-task underwater model on the synthetic benchmark: detection, enhancement,
# semantic segmentation (background + the 4 classes, from the generator's masks) and depth
# (the range map in metres). The demo model with a 4-task SquadNeck (det | enh | seg |
# depth | 2 shared groups) and light pixel heads on the neck levels.
_base_ = ['./squad-retinanet_r18_demo_underwater.py']
tasks = ['det', 'enh', 'seg', 'depth']
model = dict(
    neck=dict(tasks=tasks),
    heads=dict(
        seg=dict(type='SegHead', decode_head=dict(
            type='mmseg.FPNHead', in_channels=[64, 64, 64], in_index=[0, 1, 2],
            feature_strides=[8, 16, 32], channels=32, num_classes=5, dropout_ratio=0.0,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)),
        depth=dict(type='DepthHead', in_channels=[64, 64, 64], channels=32)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadReferenceImage'),
    dict(type='LoadDenseAnnotations'),
    dict(type='PairedResize', scale=(256, 256), keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=(256, 256), keep_ratio=True),
    # after the resize: boxes and label maps stay at the original size, like the metrics
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadDenseAnnotations'),
    dict(type='PackMultiTaskInputs',
         meta_keys=('img_id', 'img_path', 'ref_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'tasks'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metrics=dict(metrics=[
    dict(type='TaskCocoMetric', ann_file='data/underwater_synth/annotations/val.json',
         metric='bbox'),
    dict(type='EnhancementMetric'),
    dict(type='SegMetric', num_classes=5),
    dict(type='DepthMetric'),
]))
test_evaluator = val_evaluator
