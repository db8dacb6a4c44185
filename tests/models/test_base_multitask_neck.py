"""BaseMultiTaskNeck: every multi-task neck declares ``tasks`` and ``task_parameters``."""
import pytest
import torch

import mtlunder.models.necks as necks
from mtlunder.models.necks import BaseMultiTaskNeck
from mtlunder.registry import MODELS

IN_CHANNELS = [8, 16, 32]
CFGS = {
    'SquadNeck': dict(in_channels=IN_CHANNELS, num_shared=1, group_channels=8,
                      out_channels=16),
    'ETRNeck': dict(in_channels=IN_CHANNELS, out_channels=16, gamma=0.5, num_blocks=1),
    'SharedFPNNeck': dict(in_channels=IN_CHANNELS, out_channels=16, num_outs=3),
    'PerTaskFPNNeck': dict(in_channels=IN_CHANNELS, out_channels=16, num_outs=3),
    'SquadGroupsNeck': dict(num_shared=1, group_channels=(8, 8, 8)),
}


def test_every_neck_of_the_package_is_a_multitask_neck():
    names = {n for n in necks.__dict__ if n.endswith('Neck') and n != 'BaseMultiTaskNeck'}
    assert names == set(CFGS)
    for name in names:
        assert issubclass(getattr(necks, name), BaseMultiTaskNeck), name


@pytest.mark.parametrize('name', sorted(CFGS))
def test_tasks_and_task_parameters(name):
    neck = MODELS.build(dict(type=name, tasks=['det', 'enh'], **CFGS[name]))
    assert neck.tasks == ('det', 'enh')
    owned = {t: {id(p) for p in neck.task_parameters(t)} for t in neck.tasks}
    assert not owned['det'] & owned['enh']
    assert all(any(id(p) == i for p in neck.parameters()) for i in owned['det'])
    with pytest.raises(KeyError, match=f"{name}: task 'seg' is not one of"):
        neck.task_parameters('seg')
    with pytest.raises(ValueError, match=f'{name} needs distinct task names'):
        MODELS.build(dict(type=name, tasks=['det', 'det'], **CFGS[name]))
    with pytest.raises(ValueError, match=f'{name} needs at least one task'):
        MODELS.build(dict(type=name, tasks=[], **CFGS[name]))


def test_shared_neck_owns_nothing_per_task_neck_owns_its_fpn():
    shared = MODELS.build(dict(type='SharedFPNNeck', tasks=['det', 'enh'],
                               **CFGS['SharedFPNNeck']))
    assert shared.task_parameters('det') == []
    per_task = MODELS.build(dict(type='PerTaskFPNNeck', tasks=['det', 'enh'],
                                 **CFGS['PerTaskFPNNeck']))
    fpn = list(per_task.fpns['enh'].parameters())
    assert len(per_task.task_parameters('enh')) == len(fpn) > 0
    assert all(a is b for a, b in zip(per_task.task_parameters('enh'), fpn))
    x = tuple(torch.randn(1, c, 16 // 2**i, 16 // 2**i) for i, c in enumerate(IN_CHANNELS))
    assert set(per_task(x)) == {'det', 'enh'}
