# Hard-sharing baseline: one shared dilated ResNet-50 (output stride 8, ImageNet weights)
# and the SquadNet configs' DeepLab head per task (on 2048 channels), no task-specific
# features before the heads; the same data pipeline and schedule.
_base_ = './squadnet-base_aspp_seg-depth_300e_nyud.py'
model = dict(
    backbone=dict(_delete_=True, type='mmseg.ResNetV1c', depth=50, num_stages=4,
                  out_indices=(3, ), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                  norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                  contract_dilation=True,
                  init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c')),
    neck=None,
    heads=dict(seg=dict(decode_head=dict(in_channels=2048)),
               depth=dict(decode_head=dict(in_channels=2048))))
