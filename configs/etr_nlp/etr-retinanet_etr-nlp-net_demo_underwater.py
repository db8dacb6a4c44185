# The ETR demo on the ETR-NLP *backbone* (ETRNLPNet: per-task streams of explicit-task-routing
# blocks with fixed primitives from the stem on; a reconstruction, see
# docs/architectures.md) instead of ResNet-18. Stages at strides 4/8/16 with per-task widths
# 64/128/256 and gamma 0.5; the stride-8 and stride-16 stages feed the ETRNeck, whose extra
# stride-2 conv gives the detection head its stride-32 level.
_base_ = './etr-retinanet_r18_demo_underwater.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='ETRNLPNet',
        tasks={{_base_.model.neck.tasks}},
        widths=(64, 128, 256),
        depths=(2, 2, 2),
        gamma=0.5,
        out_indices=(1, 2)),
    neck=dict(in_channels=[192, 384], num_outs=3),
    heads=dict(enh=dict(in_channels=[64, 64])))
