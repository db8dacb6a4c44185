# Single-task baseline: SquadNet base with T = 1 (human parts) and S = 2: the same code, head,
# data and schedule as the 4-task model.
# Only the images with a human part are read (filter_cfg), as ASTMT does for parts alone.
_base_ = './squadnet-base_aspp_4task_300e_pascal-context.py'
tasks = ['parts']
model = dict(backbone=dict(tasks=tasks), neck=dict(tasks=tasks),
             heads=dict(_delete_=True, parts={{_base_.model.heads.parts}}))
train_dataloader = dict(dataset=dict(tasks=tasks, filter_cfg=dict(drop_unlabelled=True)))
val_dataloader = dict(dataset=dict(tasks=tasks, filter_cfg=dict(drop_unlabelled=True)))
test_dataloader = val_dataloader
val_evaluator = [dict(type='SegMetric', task='parts', num_classes=7)]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='parts/mIoU', rule='greater'))
