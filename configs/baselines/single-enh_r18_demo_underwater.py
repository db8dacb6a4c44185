# Single-task enhancement baseline of the squad demo: the same half-width ResNet-18,
# SquadNeck with T=1 (enh | 2 shared groups, the 3 backbone levels) and EnhancementHead,
# no detection head. Trained on every image with a reference; PSNR/SSIM only.
# Its checkpoint initialises the enhancer of the separately trained cascade
# (configs/baselines/cascade-enh-det-separate_r18_demo_underwater.py).
_base_ = '../squad/squad-retinanet_r18_demo_underwater.py'
model = dict(
    neck=dict(tasks=['enh']),
    heads=dict(_delete_=True, enh={{_base_.model.heads.enh}}),
    train_cfg=None,
    test_cfg=None)
train_dataloader = dict(dataset=dict(filter_cfg=dict(filter_empty_gt=False)))
val_evaluator = dict(_delete_=True, type='EnhancementMetric')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='enh/psnr'))
