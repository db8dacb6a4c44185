# The 5-task variant: + edges (T = 5, S = 2), odsF at maxDist 0.0075 (BSDS / PASCAL); 19
# thresholds while training (each threshold matches every map), the BSDS 99 for the test.
_base_ = './squadnet-base_aspp_4task_300e_pascal-context.py'
tasks = ['seg', 'parts', 'sal', 'normal', 'edge']
model = dict(
    backbone=dict(tasks=tasks),
    neck=dict(tasks=tasks),
    heads=dict(edge=dict(type='EdgeHead', decode_head={{_base_.deeplab}})))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
metrics_4task = [
    dict(type='SegMetric', num_classes=60),
    dict(type='SegMetric', task='parts', num_classes=7),
    dict(type='SaliencyMetric'),
    dict(type='NormalMetric'),
]
val_evaluator = metrics_4task + [dict(type='EdgeMetric', max_dist=0.0075, num_thresholds=19)]
test_evaluator = metrics_4task + [dict(type='EdgeMetric', max_dist=0.0075, num_thresholds=99)]
