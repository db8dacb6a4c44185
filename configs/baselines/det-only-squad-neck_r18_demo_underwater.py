# Ablation for the cost of the enhancement head: the demo model with the same backbone, the
# same two-task SquadNeck (det | enh | 2 shared groups) and input size, but only the
# detection head. `tools/analysis/benchmark_speed.py` compares its training step with the
# joint model's (target: joint <= 1.3x).
_base_ = ['../squad/squad-retinanet_r18_demo_underwater.py']
model = dict(heads=dict(_delete_=True, det={{_base_.model.heads.det}}))
val_evaluator = dict(metrics=dict(_delete_=True, type='TaskCocoMetric',
                                  ann_file='data/underwater_synth/annotations/val.json',
                                  metric='bbox'))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='coco/bbox_mAP'))
