# The 4-task variant: semseg, depth, surface normals and edges (T = 4, S = 2), the same
# reference DeepLab head, recipe and schedule.
_base_ = './squadnet-base_aspp_seg-depth_300e_nyud.py'
tasks = ['seg', 'depth', 'normal', 'edge']
model = dict(
    backbone=dict(tasks=tasks),
    neck=dict(tasks=tasks),
    heads=dict(normal=dict(type='NormalHead', decode_head={{_base_.deeplab}}),
               edge=dict(type='EdgeHead', decode_head={{_base_.deeplab}})))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
# edges: odsF at maxDist 0.011 (NYUD-v2); 19 thresholds while training (each threshold
# matches every map), the BSDS 99 for the final test
val_evaluator = [dict(type='SegMetric', num_classes=40), dict(type='DepthMetric'),
                 dict(type='NormalMetric'),
                 dict(type='EdgeMetric', max_dist=0.011, num_thresholds=19)]
test_evaluator = [dict(type='SegMetric', num_classes=40), dict(type='DepthMetric'),
                  dict(type='NormalMetric'),
                  dict(type='EdgeMetric', max_dist=0.011, num_thresholds=99)]
