# Tiny single-task RetinaNet on a SquadNet-tiny backbone (a few k parameters), for the
# complexity and speed measurements of tests/utils.
default_scope = 'mtlunder'
model = dict(
    type='RetinaNet',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.],
                           bgr_to_rgb=False, pad_size_divisor=32),
    backbone=dict(type='SquadNet', arch='tiny', num_tasks=1, num_shared=1,
                  group_channels=(4, 8, 16)),
    neck=dict(type='FPN', in_channels=[8, 16, 32], out_channels=16, num_outs=4,
              add_extra_convs='on_output'),
    bbox_head=dict(
        type='RetinaHead', num_classes=4, in_channels=16, feat_channels=16, stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4,
                              scales_per_octave=1, ratios=[1.0], strides=[2, 4, 8, 16]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
                        target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                      loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                                 min_pos_iou=0, ignore_iof_thr=-1),
                   sampler=dict(type='PseudoSampler'), allowed_border=-1, pos_weight=-1,
                   debug=False),
    test_cfg=dict(nms_pre=50, min_bbox_size=0, score_thr=0.05,
                  nms=dict(type='nms', iou_threshold=0.5), max_per_img=10))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.001, momentum=0.9))
