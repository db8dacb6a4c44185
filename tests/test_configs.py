"""Every shipped config parses, inherits its _base_ and builds its model and evaluator."""
import glob
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p)


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_builds(path, tmp_path):
    from mmengine.config import Config

    from mtlunder.registry import METRICS, MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mtlunder'
    balancer = cfg.model.get('balancer') or {}
    if balancer.get('potentials_file'):  # AMTL: recorded single-task KPIs, made here
        import json

        kpis = {task: {key: 0.5} for task, key in balancer['kpi_keys'].items()}
        (tmp_path / 'kpis.json').write_text(json.dumps(kpis))
        balancer['potentials_file'] = str(tmp_path / 'kpis.json')
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
    assert cfg.train_dataloader.dataset.type and cfg.val_dataloader.dataset.type
    # metrics are resolved, not built: CocoMetric reads its annotation file when built
    pending = [cfg.val_evaluator, cfg.test_evaluator]
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif 'metrics' in item:
            pending.append(item['metrics'])
        if isinstance(item, dict) and item.get('type') not in (None, 'Evaluator'):
            assert METRICS.get(item['type']) is not None, item['type']


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_is_seeded(path):
    """A seed (default_runtime's, or the config's own) and a training sampler whose
    indices carry each draw's seed (mtlunder.datasets.seeding)."""
    from mmengine.config import Config

    from mtlunder.datasets import SeededSampler, TaskBalancedBatchSampler
    from mtlunder.registry import DATA_SAMPLERS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(path)
    seed = cfg.get('randomness', {}).get('seed')
    assert isinstance(seed, int) and seed >= 0, f'{path}: randomness.seed is {seed!r}'
    loader = cfg.train_dataloader
    batch_sampler = loader.get('batch_sampler')
    seeds_draws = issubclass(DATA_SAMPLERS.get(loader.sampler.type), SeededSampler) or (
        batch_sampler is not None
        and issubclass(DATA_SAMPLERS.get(batch_sampler.type), TaskBalancedBatchSampler))
    assert seeds_draws, (f'{path}: train sampler {loader.sampler.type} / batch sampler '
                         f'{batch_sampler} does not seed each draw')
