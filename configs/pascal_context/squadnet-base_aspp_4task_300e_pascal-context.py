# SquadNet on PASCAL-Context as in the official code (configs/pascal/squadnet/
# squadnet_base.yml): T = 4 (semseg, human parts, saliency, surface normals), S = 2, the
# reference DeepLab head per task, PyTorch's default conv init
# (configs/_base_/models/squadnet-base_aspp.py); flip, rotation in (-20, 20) degrees, scale
# in (0.75, 1.25), fixed resize to 512x512 (configs/_base_/datasets/pascal_context.py);
# Adam 1e-4, wd 1e-4, poly power 0.99 per epoch, batch 6, 300 epochs, from scratch
# (configs/_base_/schedules/schedule_adam_poly_300e.py). The reference trains with fp16
# autocast: `tools/train.py CONFIG --amp` on CUDA. Remaining differences:
# docs/architectures.md "SquadNet: differences from the reference code".
# Semseg: the bundled 59 classes + background (60); the paper's semseg numbers use the 21
# VOC classes: squadnet-base_aspp_4task-voc21_300e_pascal-context.py. Parts: background +
# 6; saliency: maxF / mIoU over 15 thresholds.
_base_ = [
    '../_base_/models/squadnet-base_aspp.py', '../_base_/datasets/pascal_context.py',
    '../_base_/schedules/schedule_adam_poly_300e.py', '../_base_/default_runtime.py'
]
tasks = ['seg', 'parts', 'sal', 'normal']
# the model base's DeepLab head, restated here so that the seg head can add its num_classes
deeplab = dict(type='DeepLabHead', in_channels={{_base_.head_in}}, channels=256,
               dilations=(1, 12, 24, 36), dropout_ratio=0.5, in_index=0,
               init_cfg={{_base_.torch_default_init}})
model = dict(
    backbone=dict(tasks=tasks),
    neck=dict(tasks=tasks),
    heads=dict(
        _delete_=True,
        seg=dict(type='SegHead', decode_head=dict(deeplab, num_classes=60)),
        parts=dict(type='PartsHead', decode_head=deeplab),
        sal=dict(type='SaliencyHead', decode_head=deeplab),
        normal=dict(type='NormalHead', decode_head=deeplab)))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3,
                    save_best='seg/mIoU', rule='greater'))
