# Single-task enhancement baseline of the real demo (squad-retinanet_r18_demo_underwater-real.py):
# the model of single-enh_r18_demo_underwater.py trained on the LSUI / EUVP pairs of the real
# mixed benchmark only, for the real demo's epochs; PSNR / SSIM on the val pairs and the
# no-reference UIQM / UCIQE on the UTTS val images, as the joint model is scored.
_base_ = '../squad/squad-retinanet_r18_demo_underwater-real.py'
model = dict(
    neck=dict(tasks=['enh']),
    heads=dict(_delete_=True, enh={{_base_.model.heads.enh}}),
    train_cfg=None,
    test_cfg=None)
train_dataloader = dict(dataset=dict(
    _delete_=True,
    type='MixedMultiTaskDataset',
    sources=dict(pairs=dict(tasks=['enh'], dataset={{_base_.train_dataloader.dataset}}))))
val_evaluator = dict(
    _delete_=True,
    type='Evaluator',
    metrics=[dict(type='EnhancementMetric'), dict(type='UnderwaterQualityMetric')])
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='enh/psnr'))
