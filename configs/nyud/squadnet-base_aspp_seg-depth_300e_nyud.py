# SquadNet on NYUD-v2 as in the official code (configs/nyud/squadnet/squadnet_base.yml):
# T = 2 (semseg, depth), S = 2, the reference DeepLab head per task, PyTorch's default conv
# init (configs/_base_/models/squadnet-base_aspp.py); flip, scale from {1.0, 1.2, 1.5},
# fixed resize to 480x640 (configs/_base_/datasets/nyud.py); Adam 1e-4, wd 1e-4, poly
# power 0.99 per epoch, batch 6, 300 epochs, from scratch
# (configs/_base_/schedules/schedule_adam_poly_300e.py). The reference trains with fp16
# autocast: `tools/train.py CONFIG --amp` on CUDA. Remaining differences:
# docs/architectures.md "SquadNet: differences from the reference code".
_base_ = [
    '../_base_/models/squadnet-base_aspp.py', '../_base_/datasets/nyud.py',
    '../_base_/schedules/schedule_adam_poly_300e.py', '../_base_/default_runtime.py'
]
tasks = ['seg', 'depth']
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3,
                    save_best='seg/mIoU', rule='greater'))
