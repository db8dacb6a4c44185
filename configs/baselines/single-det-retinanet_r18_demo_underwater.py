# Single-task detection baseline of the squad demo: the same half-width ResNet-18,
# SquadNeck with T=1 (det | 2 shared groups) and RetinaHead on P3-P5, no enhancement head.
# Trained and evaluated on the same synthetic data; COCO box AP only.
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
model = dict(
    neck=dict(tasks=['det']),
    heads=dict(_delete_=True, det={{_base_.model.heads.det}}))
val_evaluator = dict(
    _delete_=True,
    type='TaskCocoMetric',
    ann_file='data/underwater_synth/annotations/val.json',  # the base's data_root
    metric='bbox',
    format_only=False)
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='coco/bbox_mAP'))
