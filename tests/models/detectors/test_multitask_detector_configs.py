"""The etr_nlp, baselines and SquadNet-backbone configs plug their backbones and necks into
MultiTaskDetector."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mtlunder.analysis.model_timing import random_batch
from mtlunder.registry import MODELS

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ['configs/etr_nlp/etr-retinanet_r18_demo_underwater.py',
           'configs/baselines/shared-fpn-retinanet_r18_demo_underwater.py',
           'configs/baselines/per-task-fpn-retinanet_r18_demo_underwater.py',
           'configs/squad/squad-retinanet_squadnet-tiny_demo_underwater.py',
           'configs/etr_nlp/etr-retinanet_etr-nlp-net_demo_underwater.py']
NECKS = ['ETRNeck', 'SharedFPNNeck', 'PerTaskFPNNeck', 'SquadNeck', 'ETRNeck']
BASE = ROOT / 'configs/squad/squad-retinanet_r18_demo_underwater.py'
pytestmark = pytest.mark.skipif(not BASE.is_file(), reason=f'base config {BASE} absent')


@pytest.mark.parametrize('path,neck', list(zip(CONFIGS, NECKS)))
def test_config_trains_one_step(path, neck):
    cfg = Config.fromfile(str(ROOT / path))
    assert cfg.model.neck.type == neck
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    batch = random_batch(model.tasks, 2, (64, 64), 4)
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert {k.partition('.')[0] for k in losses} == {'det', 'enh'}
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    shared = {id(p) for p in model.shared_parameters()}
    exclusive = {t: {id(p) for p in model.task_parameters(t)} for t in model.tasks}
    assert not shared & exclusive['det'] and not exclusive['det'] & exclusive['enh']
    # the neck's exclusive parts are not shared parameters (ETR branches, per-task FPNs)
    neck_exclusive = {id(p) for t in model.tasks if hasattr(model.neck, 'task_parameters')
                      for p in model.neck.task_parameters(t)}
    assert bool(neck_exclusive) == (neck != 'SharedFPNNeck')
    assert all(p.grad is not None for p in model.neck.parameters() if p.requires_grad)
    assert all(p.grad is not None for p in model.backbone.parameters() if p.requires_grad)
    # the detection head gets strides 8, 16, 32 whatever the backbone's strides
    feats = model.extract_feat(data['inputs'])
    assert [f.shape[-1] for f in feats['det']] == [8, 4, 2]


def test_grad_conflict_hook_measures_the_detector():
    from mtlunder.engine.hooks import GradConflictHook

    cfg = Config.fromfile(str(ROOT / CONFIGS[0]))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    batch = random_batch(model.tasks, 2, (64, 64), 4)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    stats = GradConflictHook(interval=1).measure(model, batch)
    assert set(stats) == {'cos_det_enh', 'frac_neg_det_enh'}
    assert -1.0 <= stats['cos_det_enh'] <= 1.0 and 0.0 <= stats['frac_neg_det_enh'] <= 1.0
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
