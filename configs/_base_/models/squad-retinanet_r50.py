# The full-size joint model: ResNet-50 (ImageNet weights) -> SquadNeck (det | enh | 2 shared
# groups of 64 channels, 2 blocks) -> RetinaHead (4 convs, 256 channels) + EnhancementHead.
_base_ = './squad-retinanet_r18.py'
model = dict(
    backbone=dict(
        depth=50,
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(in_channels=[512, 1024, 2048], group_channels=64, num_blocks=2,
              out_channels=256),
    heads=dict(
        det=dict(in_channels=256, feat_channels=256, stacked_convs=4),
        enh=dict(in_channels=[256, 256, 256], channels=64)))
