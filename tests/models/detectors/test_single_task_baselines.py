"""Single-task baselines (MultiTaskDetector with one head)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mtlunder.analysis.model_timing import random_batch
from mtlunder.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
SINGLE = {'det': ROOT / 'configs/baselines/single-det-retinanet_r18_demo_underwater.py',
          'enh': ROOT / 'configs/baselines/single-enh_r18_demo_underwater.py'}
EVALUATORS = {'det': 'TaskCocoMetric', 'enh': 'EnhancementMetric'}


@pytest.mark.parametrize('task', ['det', 'enh'])
def test_single_task_config_builds_and_runs_one_loss_call(task):
    cfg = Config.fromfile(str(SINGLE[task]))
    assert cfg.model.neck.tasks == [task] and list(cfg.model.heads) == [task]
    assert cfg.val_evaluator.type == EVALUATORS[task]
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    assert model.tasks == (task, )
    # labels for both tasks: the single-task model must use only its own
    batch = random_batch(('det', 'enh'), 2, (64, 64), 4)
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert losses and {k.partition('.')[0] for k in losses} == {task}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in model.backbone.parameters() if p.requires_grad)


def test_single_det_evaluates_the_same_val_annotations():
    base = Config.fromfile(str(ROOT / 'configs/squad/squad-retinanet_r18_demo_underwater.py'))
    coco = [m for m in base.val_evaluator.metrics.metrics if m.type == 'TaskCocoMetric']
    single = Config.fromfile(str(SINGLE['det']))
    assert len(coco) == 1 and single.val_evaluator.ann_file == coco[0].ann_file
    assert single.val_dataloader.dataset.ann_file == base.val_dataloader.dataset.ann_file


@pytest.mark.parametrize('num_outs', [3, 5])
def test_t1_neck_matches_plain_fpn_shapes(num_outs):
    from mmdet.models.necks import FPN

    neck_cfg = Config.fromfile(str(SINGLE['det'])).model.neck
    neck = MODELS.build(dict(neck_cfg, num_outs=num_outs))
    fpn = FPN(in_channels=neck_cfg.in_channels, out_channels=neck_cfg.out_channels,
              num_outs=num_outs, add_extra_convs='on_output')
    feats = tuple(torch.rand(1, c, 32 // 2**i, 40 // 2**i)
                  for i, c in enumerate(neck_cfg.in_channels))
    with torch.no_grad():
        out = neck(feats)
        ref = fpn(feats)
    assert set(out) == {'det'}
    assert [t.shape for t in out['det']] == [t.shape for t in ref]
