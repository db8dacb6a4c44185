# CPU-sized demo of the joint model (what `make demo` trains): ResNet-18 from scratch,
# SquadNeck, RetinaHead + EnhancementHead, 320x320 synthetic underwater benchmark.
_base_ = [
    '../_base_/models/squad-retinanet_r18.py',
    '../_base_/datasets/underwater_synth.py',
    '../_base_/schedules/schedule_demo_cpu.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='combined/score', rule='greater'),
    visualization=dict(type='MultiTaskVisualizationHook', max_images=8))
