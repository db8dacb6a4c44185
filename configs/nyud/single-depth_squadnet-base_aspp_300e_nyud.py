# Single-task baseline: SquadNet base with T = 1 (depth) and S = 2, same head and schedule.
_base_ = './squadnet-base_aspp_seg-depth_300e_nyud.py'
tasks = ['depth']
model = dict(backbone=dict(tasks=tasks), neck=dict(tasks=tasks),
             heads=dict(_delete_=True, depth={{_base_.model.heads.depth}}))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [dict(type='DepthMetric')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='depth/rmse', rule='less'))
