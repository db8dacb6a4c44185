# The real mixed benchmark: a real detection set (DUO, RUOD, URPC or RUIE-UTTS: boxes, no
# clean reference) plus real paired enhancement sets (UIEB, LSUI, EUVP: references, no
# boxes); every image carries only the labels it has (`tasks`). The loaders of the synthetic
# benchmark on another root, at 640 px, with task-balanced batches and the no-reference
# metrics. Standard recipe, DUO + UIEB + LSUI downloaded under data/raw/ (README, "Real
# underwater data"):
_base_ = './underwater_synth.py'
build_command = (
    'python data_tools/build_underwater_benchmark.py data/underwater_real '
    '--det duo_train:coco:data/raw/DUO/annotations/instances_train.json:'
    'data/raw/DUO/images/train '
    '--det duo_test:coco:data/raw/DUO/annotations/instances_test.json:data/raw/DUO/images/test '
    '--enh uieb:uieb:data/raw/UIEB --enh lsui:lsui:data/raw/LSUI --split 0.8 0.1 0.1')
data_root = 'data/underwater_real/'
img_scale = (640, 640)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='LoadReferenceImage'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackMultiTaskInputs',
         meta_keys=('img_id', 'img_path', 'ref_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'tasks'))
]
train_dataloader = dict(
    # every batch on every rank holds detection and enhancement samples (slots in
    # proportion to the task groups' sizes, at least one each): every task has a loss graph
    batch_sampler=dict(type='TaskBalancedBatchSampler'),
    dataset=dict(data_root=data_root, build_hint='build it with: ' + build_command,
                 pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, build_hint='build it with: ' + build_command,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
# Each metric scores the images labelled for its task: COCO box AP on the detection images,
# PSNR / SSIM on the pairs, UIQM / UCIQE (no reference) on the detection images, output and
# input; `combined/score` (0.5 mAP@0.5 + 0.5 min(PSNR gain / 10 dB, 1)) picks the best epoch.
val_evaluator = dict(metrics=dict(metrics=[
    dict(type='TaskCocoMetric', ann_file=data_root + 'annotations/val.json', metric='bbox'),
    dict(type='EnhancementMetric'),
    dict(type='UnderwaterQualityMetric'),
]))
test_evaluator = val_evaluator
