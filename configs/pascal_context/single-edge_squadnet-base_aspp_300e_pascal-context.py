# Single-task baseline: SquadNet base with T = 1 (edges) and S = 2: the same code, head,
# data and schedule as the 5-task model.
_base_ = './squadnet-base_aspp_5task_300e_pascal-context.py'
tasks = ['edge']
model = dict(backbone=dict(tasks=tasks), neck=dict(tasks=tasks),
             heads=dict(_delete_=True, edge={{_base_.model.heads.edge}}))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [dict(type='EdgeMetric', max_dist=0.0075, num_thresholds=19)]
test_evaluator = [dict(type='EdgeMetric', max_dist=0.0075, num_thresholds=99)]
default_hooks = dict(checkpoint=dict(save_best='edge/odsF', rule='greater'))
