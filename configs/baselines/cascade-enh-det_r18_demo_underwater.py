# Enhance-then-detect cascade at the squad demo's size: an enhancement network (half-width
# ResNet-18 -> SquadNeck T=1 -> EnhancementHead) followed by a detector (half-width
# ResNet-18 -> SquadNeck T=1 -> RetinaHead P3-P5) on the enhanced image, trained end to end
# (the detection loss also trains the enhancer). Same data, schedule and evaluator as the
# joint demo, so the two are directly comparable.
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
_neck = dict(
    type='SquadNeck',
    in_channels={{_base_.model.neck.in_channels}},
    num_shared={{_base_.model.neck.num_shared}},
    group_channels={{_base_.model.neck.group_channels}},
    num_blocks={{_base_.model.neck.num_blocks}},
    out_channels={{_base_.model.neck.out_channels}},
    num_outs={{_base_.model.neck.num_outs}})
model = dict(
    _delete_=True,
    type='CascadeEnhanceDetect',
    data_preprocessor={{_base_.model.data_preprocessor}},
    detach_enhanced=False,
    enhancer=dict(
        type='MultiTaskDetector',
        backbone={{_base_.model.backbone}},
        neck=dict(_neck, tasks=['enh']),
        heads=dict(enh={{_base_.model.heads.enh}})),
    detector=dict(
        type='MultiTaskDetector',
        backbone={{_base_.model.backbone}},
        neck=dict(_neck, tasks=['det']),
        heads=dict(det={{_base_.model.heads.det}}),
        train_cfg={{_base_.model.train_cfg}},
        test_cfg={{_base_.model.test_cfg}}))
