# CPU demo of the NYUD-v2 model: SquadNet tiny (2/2/2 blocks, groups of 8/16/32 channels),
# small DeepLab heads (64 channels), the reference augmentation at half size (flip, scale
# from {1.0, 1.2, 1.5}, fixed resize to 240x320), 2 epochs.
_base_ = './squadnet-base_aspp_seg-depth_300e_nyud.py'
group_channels = (8, 16, 32)
img_scale = (320, 240)  # (W, H)
model = dict(
    backbone=dict(arch='tiny', group_channels=group_channels),
    neck=dict(group_channels=[32]),
    heads=dict(seg=dict(decode_head=dict(in_channels=96, channels=64)),
               depth=dict(decode_head=dict(in_channels=96, channels=64))))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PairedRandomScaleRotate', scale_choices=[1.0, 1.2, 1.5],
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
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
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
