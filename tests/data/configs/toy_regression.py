# Tiny iteration-based config of the toy task (tests/fixtures/toy_task.py).
default_scope = 'mtlunder'
custom_imports = dict(imports=['tests.fixtures.toy_task'], allow_failed_imports=False)
model = dict(type='ToyRegressor')
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ToyRegressionDataset', length=64, seed=0))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=8, val_interval=1000)
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=2),
    checkpoint=dict(type='CheckpointHook', interval=4, by_epoch=False))
custom_hooks = [dict(type='SaveRankParamsHook')]
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))
randomness = dict(seed=0)
log_level = 'INFO'
load_from = None
resume = False
