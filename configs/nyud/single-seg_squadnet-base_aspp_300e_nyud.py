# Single-task baseline: SquadNet base with T = 1 (semseg) and S = 2, same head and schedule.
_base_ = './squadnet-base_aspp_seg-depth_300e_nyud.py'
tasks = ['seg']
model = dict(backbone=dict(tasks=tasks), neck=dict(tasks=tasks),
             heads=dict(_delete_=True, seg={{_base_.model.heads.seg}}))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [dict(type='SegMetric', num_classes=40)]
test_evaluator = val_evaluator
