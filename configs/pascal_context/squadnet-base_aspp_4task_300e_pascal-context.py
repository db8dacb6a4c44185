# SquadNet on PASCAL-Context as in the paper: T = 4 (semseg, human parts, saliency, surface
# normals), S = 2, a DeepLab-v3 ASPP head per task (rates 12/24/36, 256 channels), Adam 1e-4,
# wd 1e-4, poly decay, batch 6, 300 epochs, from scratch. Semseg: the bundled 59 classes +
# background (60); parts: background + 6; saliency: maxF / mIoU over 15 thresholds.
_base_ = [
    '../_base_/models/squadnet-base_aspp.py', '../_base_/datasets/pascal_context.py',
    '../_base_/schedules/schedule_adam_poly_300e.py', '../_base_/default_runtime.py'
]
tasks = ['seg', 'parts', 'sal', 'normal']
# the model base's ASPP head, restated here so that the seg head can add its num_classes
aspp = dict(type='mmseg.ASPPHead', in_channels={{_base_.head_in}}, channels=256,
            dilations=(1, 12, 24, 36), in_index=0, dropout_ratio=0.1,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)
model = dict(
    backbone=dict(tasks=tasks),
    neck=dict(tasks=tasks),
    heads=dict(
        _delete_=True,
        seg=dict(type='SegHead', decode_head=dict(aspp, num_classes=60)),
        parts=dict(type='PartsHead', decode_head=aspp),
        sal=dict(type='SaliencyHead', decode_head=aspp),
        normal=dict(type='NormalHead', decode_head=aspp)))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3,
                    save_best='seg/mIoU', rule='greater'))
