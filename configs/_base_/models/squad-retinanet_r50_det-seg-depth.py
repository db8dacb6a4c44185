# Detection + semantic segmentation + depth: ResNet-50 (ImageNet weights) -> SquadNeck
# (det | seg | depth | 2 shared groups of 64 channels, 2 blocks) -> RetinaHead (4 convs, 256
# channels) + SegHead (mmseg FPNHead, 128 channels) + DepthHead, all on P3-P5. The dataset
# config sets the class numbers.
_base_ = './squad-retinanet_r50.py'
tasks = ['det', 'seg', 'depth']
model = dict(
    neck=dict(tasks=tasks),
    heads=dict(
        _delete_=True,
        det={{_base_.model.heads.det}},
        seg=dict(type='SegHead', decode_head=dict(
            type='mmseg.FPNHead', in_channels=[256, 256, 256], in_index=[0, 1, 2],
            feature_strides=[8, 16, 32], channels=128, num_classes=21, dropout_ratio=0.1,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)),
        depth=dict(type='DepthHead', in_channels=[256, 256, 256], channels=64)))
