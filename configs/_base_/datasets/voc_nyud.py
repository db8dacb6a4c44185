# The partially annotated mixture of the AMTL setting: PASCAL VOC detection (boxes only),
# PASCAL VOC segmentation (masks only) and NYUD-v2 (depth only); every image carries the
# labels of the set it comes from, nothing else. Build the data (docs/voc_nyud.md):
#   python data_tools/convert_voc.py data/VOCdevkit data/voc
#   python data_tools/convert_nyud.py mat data/nyu_depth_v2_labeled.mat data/nyud \
#       --splits data/splits.mat --class-mapping data/classMapping40.mat
# Each source keeps its own pipeline; TaskBalancedBatchSampler puts a sample of every task
# in every batch on every rank; each metric scores only the images labelled for its task
# (COCO mAP on VOC det val, mIoU on VOC seg val, depth errors on NYUD-v2 val).
voc_root = 'data/voc/'
nyud_root = 'data/nyud/'
img_scale = (512, 512)
seg_crop = (512, 512)
nyud_crop = (560, 425)  # (W, H)
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'source')
det_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs', meta_keys=meta_keys)
]
seg_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0), keep_ratio=True,
         resize_type='PairedResize'),
    dict(type='PairedPad', size=seg_crop),
    dict(type='PairedRandomCrop', crop_size=seg_crop),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs', meta_keys=meta_keys)
]
depth_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='RandomResize', scale=(640, 480), ratio_range=(0.5, 2.0), keep_ratio=True,
         resize_type='PairedResize'),
    dict(type='PairedPad', size=nyud_crop),
    dict(type='PairedRandomCrop', crop_size=nyud_crop),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs', meta_keys=meta_keys)
]
test_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'source')
# evaluation: the labels stay at the original size (loaded after the resize), like the
# metrics; NYUD-v2 frames at their 480x640
det_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackMultiTaskInputs', meta_keys=test_meta_keys)
]
seg_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=img_scale, keep_ratio=True),
    dict(type='LoadDenseAnnotations'),
    dict(type='PackMultiTaskInputs', meta_keys=test_meta_keys)
]
depth_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDenseAnnotations'),
    dict(type='PackMultiTaskInputs', meta_keys=test_meta_keys)
]


def _sources(split, test_mode, det_pipeline, seg_pipeline, depth_pipeline):
    return dict(
        voc_det=dict(tasks=['det'], dataset=dict(
            type='VOCMultiTaskDataset', data_root=voc_root,
            ann_file=f'annotations/{split}.json', test_mode=test_mode,
            pipeline=det_pipeline)),
        voc_seg=dict(tasks=['seg'], dataset=dict(
            type='DenseMultiTaskDataset', data_root=voc_root, split=split, tasks=['seg'],
            test_mode=test_mode, pipeline=seg_pipeline)),
        nyud_depth=dict(tasks=['depth'], dataset=dict(
            type='DenseMultiTaskDataset', data_root=nyud_root, split=split, tasks=['depth'],
            test_mode=test_mode, pipeline=depth_pipeline)))


train_dataloader = dict(
    batch_size=4,  # at least one sample of each of the 3 tasks per batch
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='TaskBalancedBatchSampler'),
    dataset=dict(type='MixedMultiTaskDataset',
                 sources=_sources('train', False, det_train_pipeline, seg_train_pipeline,
                                  depth_train_pipeline)))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MixedMultiTaskDataset',
                 sources=_sources('val', True, det_test_pipeline, seg_test_pipeline,
                                  depth_test_pipeline)))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='TaskCocoMetric', ann_file=voc_root + 'annotations/val.json', metric='bbox'),
    dict(type='SegMetric', num_classes=21),
    dict(type='DepthMetric'),
]
test_evaluator = val_evaluator
