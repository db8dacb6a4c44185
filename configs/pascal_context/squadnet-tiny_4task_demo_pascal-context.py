# CPU demo of the PASCAL-Context model: SquadNet tiny (2/2/2 blocks, groups of 8/16/32
# channels), the same 4 tasks with small DeepLab heads (64 channels), the reference
# augmentation at half size (flip, rotation in (-20, 20) degrees, scale in (0.75, 1.25),
# fixed resize to 256x256), batch 4, 2 epochs; evaluated at 256x256, scored at the original
# size.
_base_ = './squadnet-base_aspp_4task_300e_pascal-context.py'
group_channels = (8, 16, 32)
img_scale = (256, 256)  # (W, H)
small_head = dict(decode_head=dict(in_channels=group_channels[-1] * 3, channels=64))
model = dict(
    backbone=dict(arch='tiny', group_channels=group_channels),
    neck=dict(group_channels=[group_channels[-1]]),
    heads=dict(seg=small_head, parts=small_head, sal=small_head, normal=small_head))
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
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
max_epochs = 2
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='PolyLR', power=0.99, eta_min=0, begin=0, end=max_epochs,
                        by_epoch=True)]
default_hooks = dict(logger=dict(type='LoggerHook', interval=1),
                     checkpoint=dict(interval=1))
