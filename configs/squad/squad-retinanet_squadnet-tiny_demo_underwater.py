# The squad demo on the expert-squad *backbone* (SquadNet tiny, Chen & Er 2025) instead of
# ResNet-18: det | enh | 2 shared groups from the stem on, group widths 16/32/64 (stage
# widths 64/128/256 at strides 2/4/8; CPU-sized, the paper's are 32/64/128). The stride-8
# stage feeds the SquadNeck, whose two extra stride-2 convs give the detection head its
# stride-16 and stride-32 levels; the enhancement head reads the stride-8 level.
_base_ = './squad-retinanet_r18_demo_underwater.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='SquadNet',
        arch='tiny',
        tasks={{_base_.model.neck.tasks}},
        num_shared=2,
        group_channels=(16, 32, 64),
        out_indices=(2, )),
    neck=dict(in_channels=[256], num_outs=3),
    heads=dict(enh=dict(in_channels=[64])))
