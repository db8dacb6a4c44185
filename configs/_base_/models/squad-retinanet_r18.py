# Joint detection + enhancement: ResNet-18 -> SquadNeck (det | enh | 2 shared groups) ->
# {RetinaHead, EnhancementHead}.
model = dict(
    type='MultiTaskDetector',
    data_preprocessor=dict(
        type='MultiTaskDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch'),  # no pretrained weights: trained from scratch
    neck=dict(
        type='SquadNeck',
        in_channels=[128, 256, 512],
        tasks=['det', 'enh'],
        num_shared=2,
        group_channels=32,
        num_blocks=1,
        out_channels=64,
        num_outs=5),
    heads=dict(
        det=dict(
            type='RetinaHead',
            num_classes=4,
            in_channels=64,
            stacked_convs=2,
            feat_channels=64,
            anchor_generator=dict(
                type='AnchorGenerator',
                octave_base_scale=4,
                scales_per_octave=3,
                ratios=[0.5, 1.0, 2.0],
                strides=[8, 16, 32, 64, 128]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(
                type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        enh=dict(
            type='EnhancementHead',
            in_channels=[64, 64, 64],
            # SSIM on 2x average-pooled images (4x cheaper); L1 keeps the full resolution
            loss_ssim=dict(type='SSIMLoss', downsample=2))),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            ignore_iof_thr=-1),
        sampler=dict(type='PseudoSampler'),
        allowed_border=-1,
        pos_weight=-1,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=100))
