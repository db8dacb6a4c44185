# CPU-sized demo of the joint model (what `make demo` trains in about ten minutes on two
# cores): ResNet-18 at half width (base_channels=32) from scratch -> SquadNeck (det | enh |
# 2 shared groups of 32 channels) -> RetinaHead on P3-P5 + EnhancementHead, 256x256
# synthetic underwater benchmark (`data_tools/synth_underwater.py --size 256 256`).
_base_ = [
    '../_base_/models/squad-retinanet_r18.py',
    '../_base_/datasets/underwater_synth.py',
    '../_base_/schedules/schedule_demo_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(base_channels=32),
    neck=dict(in_channels=[64, 128, 256], num_outs=3),
    heads=dict(det=dict(anchor_generator=dict(octave_base_scale=2, strides=[8, 16, 32]))))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='combined/score', rule='greater'),
    visualization=dict(type='MultiTaskVisualizationHook', max_images=8))
