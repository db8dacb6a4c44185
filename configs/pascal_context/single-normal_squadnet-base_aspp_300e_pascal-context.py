# Single-task baseline: SquadNet base with T = 1 (surface normals) and S = 2: the same code, head,
# data and schedule as the 4-task model.
_base_ = './squadnet-base_aspp_4task_300e_pascal-context.py'
tasks = ['normal']
model = dict(backbone=dict(tasks=tasks), neck=dict(tasks=tasks),
             heads=dict(_delete_=True, normal={{_base_.model.heads.normal}}))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [dict(type='NormalMetric')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='normal/mean', rule='less'))
