# The real demo (squad-retinanet_r18_demo_underwater-real.py) with its training set read as
# a partially annotated mixture of sources, the mechanism of configs/voc_nyud/: the
# detection images (RUIE-UTTS, boxes only) and the enhancement pairs (LSUI + EUVP,
# references only) of the same benchmark json, each with its own pipeline. The pairs are
# also cropped at random (a crop cuts boxes, so the detection source only resizes).
_base_ = ['./squad-retinanet_r18_demo_underwater-real.py']
source = dict(type='UnderwaterMultiTaskDataset', data_root={{_base_.data_root}},
              metainfo=dict(classes={{_base_.classes}}), ann_file='annotations/train.json',
              data_prefix=dict(img='images/', ref='references/'),
              build_hint={{_base_.train_dataloader.dataset.build_hint}})
pairs_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferenceImage'),
    dict(type='PairedResize', scale=(288, 288), keep_ratio=True),
    dict(type='PairedRandomCrop', crop_size=(256, 256)),
    dict(type='PairedRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs')
]
train_dataloader = dict(dataset=dict(
    _delete_=True, type='MixedMultiTaskDataset',
    sources=dict(
        utts=dict(tasks=['det'], dataset=dict(
            source, filter_cfg=dict(filter_empty_gt=True, min_size=4),
            pipeline={{_base_.train_pipeline}})),
        pairs=dict(tasks=['enh'], dataset=dict(source, pipeline=pairs_pipeline)))))
