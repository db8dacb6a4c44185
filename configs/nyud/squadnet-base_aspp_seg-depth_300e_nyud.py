# SquadNet on NYUD-v2 as in the paper: T = 2 (semseg, depth), S = 2, ASPP heads, Adam 1e-4,
# wd 1e-4, poly decay, batch 6, 300 epochs, from scratch.
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
