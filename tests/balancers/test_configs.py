"""Every balancer config parses, names a registered balancer and builds for det + enh."""
from pathlib import Path

import pytest

from mtlunder.balancers import build_balancer

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'balancers'
CONFIGS = sorted(CONFIG_DIR.glob('*_squad-retinanet_r18_demo_underwater.py'))


def test_one_config_per_method():
    from mtlunder.registry import BALANCERS

    names = {p.name.split('_')[0] for p in CONFIGS}
    assert len(CONFIGS) == len(BALANCERS.module_dict) - 1     # all but BaseBalancer
    assert {'ew', 'mgda', 'mgda-ub', 'pcgrad', 'amtl', 'dwa'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name.split('_')[0])
def test_config_builds_its_balancer(path):
    from mmengine.config import Config

    if not (CONFIG_DIR.parent / 'squad' / 'squad-retinanet_r18_demo_underwater.py').exists():
        pytest.skip('the demo config these inherit from is absent')
    cfg = Config.fromfile(str(path))
    assert cfg.model_wrapper_cfg.type == 'MultiTaskDDP'
    assert any(h['type'] == 'BalancerHook' for h in cfg.custom_hooks)
    balancer_cfg = cfg.model.balancer.to_dict()
    if balancer_cfg['type'] == 'AMTL':
        with pytest.raises(FileNotFoundError,
                           match=r'single_task_results\.json.*tools/analysis/record_single_task'):
            build_balancer(balancer_cfg, cfg.model.heads.keys())
        return
    balancer = build_balancer(balancer_cfg, list(cfg.model.heads.keys()))
    assert balancer.tasks == ['det', 'enh']
