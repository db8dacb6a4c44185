# The toy task (tests/fixtures/toy_task.py) trained for 4 iterations and tested on 16 held-out
# samples (toy/rmse): the smallest config that goes through tools/train.py and tools/test.py.
_base_ = './toy_regression.py'
train_cfg = dict(max_iters=4)
_eval_loader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ToyRegressionDataset', length=16, seed=1))
val_dataloader = _eval_loader
test_dataloader = _eval_loader
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
val_evaluator = dict(type='ToyRegressionMetric')
test_evaluator = val_evaluator
custom_hooks = []
