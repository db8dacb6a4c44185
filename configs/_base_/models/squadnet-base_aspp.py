# SquadNet base as published (Chen & Er 2025; official code chenjie04/Multi-Task-Learning-
# PyTorch: models/SquadNet.py, models/aspp.py, configs/{nyud,pascal}/squadnet/squadnet_base.yml):
# depths 8/8/8, groups of 32/64/128 channels, output stride 8, T task groups and S = 2
# shared groups; each downsampling unit ends with a full-width feed-forward.
# Heads (`head: deeplab` there): each task's DeepLabHead reads cat(group_t, shared groups) of
# the stride-8 map (SquadGroupsNeck): ASPP (1x1, 3x3 at dilations 12/24/36, image pooling;
# 256 channels, BN, ReLU) -> concat 1280 -> 1x1 256, BN, ReLU, Dropout 0.5 -> 3x3 256, BN,
# ReLU -> 1x1 classifier (3,772,161 parameters for one output on 384 channels).
# Initialisation as in the reference: PyTorch's default conv init (nn.Conv2d's
# Kaiming-uniform, a = sqrt(5), fan-in) in the backbone and the heads, BN 1 / 0.
tasks = ['seg', 'depth']
num_shared = 2
group_channels = (32, 64, 128)
head_in = group_channels[-1] * (1 + num_shared)
torch_default_init = dict(type='Kaiming', layer='Conv2d', a=2.23606797749979, mode='fan_in',
                          nonlinearity='leaky_relu', distribution='uniform')
deeplab = dict(type='DeepLabHead', in_channels=head_in, channels=256,
               dilations=(1, 12, 24, 36), dropout_ratio=0.5, in_index=0,
               init_cfg=torch_default_init)
# Option: mmseg's DeepLab-v3 ASPPHead (ASPP -> 3x3 1280 -> 256 bottleneck -> Dropout 0.1 ->
# classifier; 5,803,265 parameters for the same case), e.g. heads=dict(seg=dict(type=
# 'SegHead', decode_head=dict(aspp, num_classes=40)), depth=dict(type='DepthHead',
# decode_head=aspp)) with
# aspp = dict(type='mmseg.ASPPHead', in_channels=head_in, channels=256,
#             dilations=(1, 12, 24, 36), in_index=0, dropout_ratio=0.1,
#             norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)
model = dict(
    type='MultiTaskSegmentor',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=8),
    backbone=dict(type='SquadNet', arch='base', tasks=tasks, num_shared=num_shared,
                  group_channels=group_channels, out_indices=(2, ),
                  init_cfg=torch_default_init),
    neck=dict(type='SquadGroupsNeck', tasks=tasks, num_shared=num_shared,
              group_channels=[group_channels[-1]]),
    heads=dict(
        seg=dict(type='SegHead', decode_head=dict(deeplab, num_classes=40)),
        depth=dict(type='DepthHead', decode_head=deeplab)))
