# SquadNet base (depths 8/8/8, groups of 32/64/128 channels, stride 8) with T task groups
# and S = 2 shared groups; each task's DeepLab-v3 ASPP head (rates 12/24/36, 256 channels)
# reads cat(group_t, shared groups) of the stride-8 map (SquadGroupsNeck).
tasks = ['seg', 'depth']
num_shared = 2
group_channels = (32, 64, 128)
head_in = group_channels[-1] * (1 + num_shared)
aspp = dict(type='mmseg.ASPPHead', in_channels=head_in, channels=256,
            dilations=(1, 12, 24, 36), in_index=0, dropout_ratio=0.1,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)
model = dict(
    type='MultiTaskSegmentor',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=8),
    backbone=dict(type='SquadNet', arch='base', tasks=tasks, num_shared=num_shared,
                  group_channels=group_channels, out_indices=(2, )),
    neck=dict(type='SquadGroupsNeck', tasks=tasks, num_shared=num_shared,
              group_channels=[group_channels[-1]]),
    heads=dict(
        seg=dict(type='SegHead', decode_head=dict(aspp, num_classes=40)),
        depth=dict(type='DepthHead', decode_head=aspp)))
