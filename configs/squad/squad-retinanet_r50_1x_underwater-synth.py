# The full joint model on the SYNTHETIC benchmark, for a GPU: ResNet-50 (ImageNet weights)
# -> SquadNeck -> RetinaHead + EnhancementHead at 640x640, MMDetection's 1x schedule
# (12 epochs, 16 images per batch: 8 GPUs x 2 images, or --auto-scale-lr). The same model on
# real data is configs/squad/underwater_det_enh.py.
# Generate the data first: python data_tools/synth_underwater.py --out data/underwater_synth_640 \
#     --num-images 6000 --size 640 640
_base_ = [
    '../_base_/models/squad-retinanet_r50.py',
    '../_base_/datasets/underwater_synth.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
data_root = 'data/underwater_synth_640/'
img_scale = (640, 640)
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True),
            dict(type='LoadReferenceImage'),
            dict(type='PairedResize', scale=img_scale, keep_ratio=True),
            dict(type='PairedRandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
            dict(type='PackMultiTaskInputs')
        ]))
_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackMultiTaskInputs',
         meta_keys=('img_id', 'img_path', 'ref_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'tasks'))
]
val_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root, pipeline=_test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(metrics=dict(metrics=[
    dict(type='TaskCocoMetric', ann_file=data_root + 'annotations/val.json', metric='bbox'),
    dict(type='EnhancementMetric'),
]))
test_evaluator = val_evaluator
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='combined/score', rule='greater'),
    visualization=dict(type='MultiTaskVisualizationHook'))
auto_scale_lr = dict(base_batch_size=16)
