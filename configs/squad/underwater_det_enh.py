# The main job on REAL data, for a GPU: ResNet-50 (ImageNet weights) -> SquadNeck ->
# RetinaHead + EnhancementHead at 640x640 on the real mixed benchmark (DUO detection + UIEB
# and LSUI pairs), MMDetection's 1x schedule (12 epochs, 16 images per batch: 8 GPUs x 2
# images, or --auto-scale-lr). Build the data first; the command is `build_command` of
# configs/_base_/datasets/underwater_real.py (README, "Real underwater data"). The same model
# on the synthetic benchmark: squad-retinanet_r50_1x_underwater-synth.py.
_base_ = [
    '../_base_/models/squad-retinanet_r50.py',
    '../_base_/datasets/underwater_real.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=2)
test_dataloader = val_dataloader
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                    save_best='combined/score', rule='greater'),
    visualization=dict(type='MultiTaskVisualizationHook'))
auto_scale_lr = dict(base_batch_size=16)
