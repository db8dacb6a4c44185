# CPU demo of the joint model on REAL data (what `make demo-real` trains): the model and
# schedule of squad-retinanet_r18_demo_underwater.py at 256x256 on the real mixed benchmark
# built from the shared samples (RUIE-UTTS detection + LSUI and EUVP pairs), with the
# task-balanced batches and the metrics of configs/_base_/datasets/underwater_real.py.
_base_ = ['./squad-retinanet_r18_demo_underwater.py']
build_command = (
    'python data_tools/build_underwater_benchmark.py data/underwater_real_demo '
    '--det ruie_utts:voc:../shared/data/ruie_utts --map urchin=echinus '
    '--enh lsui:generic:../shared/data/lsui_pairs --enh euvp:generic:../shared/data/euvp_pairs '
    '--split 0.8 0.2')
data_root = 'data/underwater_real_demo/'
train_dataloader = dict(
    batch_sampler=dict(type='TaskBalancedBatchSampler'),
    dataset=dict(data_root=data_root, build_hint='build it with: ' + build_command))
val_dataloader = dict(
    dataset=dict(data_root=data_root, build_hint='build it with: ' + build_command))
test_dataloader = val_dataloader
val_evaluator = dict(metrics=dict(metrics=[
    dict(type='TaskCocoMetric', ann_file=data_root + 'annotations/val.json', metric='bbox'),
    dict(type='EnhancementMetric'),
    dict(type='UnderwaterQualityMetric'),
]))
test_evaluator = val_evaluator
# 18 epochs (the real training set has 345 images, the synthetic one 480), a final one at lr/10
max_epochs = 18
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs - 1], gamma=0.1)
]
