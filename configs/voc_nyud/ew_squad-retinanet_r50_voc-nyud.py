# The AMTL setting (Yun & Cho, ICCV 2023): one model for VOC detection, VOC segmentation
# and NYUD-v2 depth, trained on the partially annotated mixture (every image carries only
# the labels of its own set). Equal weighting, the reference of every balancer. 12 epochs
# of the mixture (an epoch = len(mixture) / 16 batches), 4 images per GPU (each batch holds
# every task), 4 GPUs: tools/dist_train.sh configs/voc_nyud/ew_squad-retinanet_r50_voc-nyud.py 4
# delta_m needs the recorded single-task runs first (docs/voc_nyud.md).
_base_ = [
    '../_base_/models/squad-retinanet_r50_det-seg-depth.py',
    '../_base_/datasets/voc_nyud.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py',
]
single_task_results = 'work_dirs/voc_nyud_single_task/single_task_results.json'
model = dict(heads=dict(det=dict(num_classes=20)), balancer=dict(type='EW'))
custom_hooks = [dict(type='BalancerHook')]
val_evaluator = dict(_delete_=True, metrics=dict(
    type='MultiTaskDeltaMetric', metrics={{_base_.val_evaluator}},
    single_task_results=single_task_results,
    delta_keys=dict(det=['coco/bbox_mAP'], seg=['seg/mIoU'],
                    depth=['depth/rmse', 'depth/abs_rel'])))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3,
                                     save_best='multitask/delta_m', rule='greater'))
auto_scale_lr = dict(base_batch_size=16)
