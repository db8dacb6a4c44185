# Detection + semantic segmentation + depth: ResNet-18 -> SquadNeck (det | seg | depth | 2
# shared groups) -> RetinaHead + SegHead (mmseg FPNHead on P3-P5) + DepthHead (P3-P5). The
# dataset config sets the class numbers (RetinaHead num_classes, FPNHead num_classes).
_base_ = './squad-retinanet_r18.py'
tasks = ['det', 'seg', 'depth']
model = dict(
    neck=dict(tasks=tasks),
    heads=dict(
        _delete_=True,
        det={{_base_.model.heads.det}},
        seg=dict(type='SegHead', decode_head=dict(
            type='mmseg.FPNHead', in_channels=[64, 64, 64], in_index=[0, 1, 2],
            feature_strides=[8, 16, 32], channels=32, num_classes=21, dropout_ratio=0.0,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)),
        depth=dict(type='DepthHead', in_channels=[64, 64, 64], channels=32)))
