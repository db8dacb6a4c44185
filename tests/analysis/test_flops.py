"""mtlunder.analysis.flops: parameters and FLOPs per component and per task."""
from pathlib import Path

import pytest
import torch
from torch import nn

from mtlunder.analysis.flops import (complexity, components, config_complexity, format_table,
                                     infer_tasks, task_roots)
from mtlunder.models.backbones import SquadNet
from mtlunder.models.necks import ETRNeck

TINY = Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'retinanet_squadnet-tiny.py'
pytestmark = pytest.mark.usefixtures('single_thread')


class ToyMultiTask(nn.Module):
    """SquadNet -> ETRNeck -> one 1x1 conv head per task, ``mode='tensor'`` like a detector."""

    tasks = ('det', 'enh')

    def __init__(self):
        super().__init__()
        self.backbone = SquadNet(arch='tiny', num_tasks=2, num_shared=1,
                                 group_channels=(4, 8, 16))
        self.neck = ETRNeck([12, 24, 48], self.tasks, out_channels=8, num_outs=4,
                            add_extra_convs='on_output')
        self.heads = nn.ModuleDict(dict(det=nn.Conv2d(8, 5, 1), enh=nn.Conv2d(8, 3, 1)))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        feats = self.neck(self.backbone(inputs))
        return {t: [self.heads[t](f) for f in feats[t]] for t in self.tasks}


def _numel(module):
    return sum(p.numel() for p in module.parameters())


def test_components_task_roots_and_tasks():
    model = ToyMultiTask()
    assert components(model) == ['backbone', 'neck', 'heads.det', 'heads.enh']
    assert infer_tasks(model) == ('det', 'enh')
    roots = task_roots(model, model.tasks)
    assert 'heads.det' in roots['det'] and 'neck.extra_convs.det' in roots['det']
    assert 'heads.enh' in roots['enh'] and not set(roots['det']) & set(roots['enh'])
    # without ``tasks``: the task names among the ModuleDict keys, in TASK_NAMES order
    untagged = nn.Module()
    untagged.heads = nn.ModuleDict(dict(depth=nn.Identity(), foo=nn.Identity(),
                                        det=nn.Identity()))
    assert infer_tasks(untagged) == ('det', 'depth')
    assert task_roots(untagged, ('det', 'depth')) == {'det': ['heads.det'],
                                                      'depth': ['heads.depth']}


def test_complexity_per_component_and_task():
    model = ToyMultiTask()
    with torch.no_grad():
        result = complexity(model, torch.rand(1, 3, 32, 32))
    comps = result['components']
    assert list(comps) == ['backbone', 'neck', 'heads.det', 'heads.enh']
    # levels: det 16, 8, 4, 2 px; enh 16, 8, 4 px; 1x1 conv FLOPs = HW * Cin * Cout
    assert comps['heads.det'] == (8 * 5 + 5, 8 * 5 * (256 + 64 + 16 + 4))
    assert comps['heads.enh'] == (8 * 3 + 3, 8 * 3 * (256 + 64 + 16))
    assert comps['backbone'][0] == _numel(model.backbone)
    assert result['total'][0] == _numel(model)
    assert result['total'][1] == sum(f for _, f in comps.values())
    det_exclusive = _numel(model.heads['det']) + _numel(model.neck.extra_convs['det']) + sum(
        _numel(b.task_branches['det']) for stack in model.neck.blocks for b in stack)
    assert result['tasks']['det']['exclusive'][0] == det_exclusive
    excl = [v['exclusive'] for v in result['tasks'].values()]
    assert result['shared'][0] + sum(e[0] for e in excl) == result['total'][0]
    assert result['shared'][1] + sum(e[1] for e in excl) == result['total'][1]
    assert result['tasks']['enh']['total'][1] == result['shared'][1] + excl[1][1]
    assert model.training  # restored after the eval-mode trace


def test_format_table_in_millions_and_billions():
    result = dict(components={'backbone': (2_000_000, 3_000_000_000), 'heads.det': (5e5, 1e9)},
                  total=(2_500_000, 4_000_000_000), shared=(2_000_000, 3_000_000_000),
                  tasks={'det': dict(exclusive=(5e5, 1e9), total=(2_500_000, 4e9))})
    lines = format_table(result, (64, 48)).splitlines()
    assert lines[0] == 'Input shape: (1, 3, 64, 48); 1 FLOP = 1 multiply-add'
    assert '| backbone                   |      2.000 |      3.000 |' in lines
    assert '| total                      |      2.500 |      4.000 |' in lines
    assert '| det alone (shared + excl)  |      2.500 |      4.000 |' in lines
    assert lines[-3].startswith('| shared ') and lines[-2].startswith('| det exclusive ')


def test_config_complexity_builds_the_config_with_its_options():
    from mmengine.config import Config

    from mtlunder.registry import MODELS

    result = config_complexity(str(TINY), (64, 64))
    assert list(result['components']) == ['backbone', 'neck', 'bbox_head']
    assert result['total'][0] == _numel(MODELS.build(Config.fromfile(str(TINY)).model))
    assert result['tasks'] == {} and result['shared'] == result['total']
    bigger = config_complexity(str(TINY), (64, 64), {'model.backbone.arch': 'small'})
    assert bigger['components']['backbone'][0] > result['components']['backbone'][0]
    assert bigger['components']['bbox_head'] == result['components']['bbox_head']


def test_tool_prints_the_table_of_a_config():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / 'tools' / 'analysis' / 'get_flops.py'),
                           str(TINY), '--shape', '64', '64'], cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    total = config_complexity(str(TINY), (64, 64))['total']
    assert f'| total                      | {total[0] / 1e6:10.3f} |' in proc.stdout
