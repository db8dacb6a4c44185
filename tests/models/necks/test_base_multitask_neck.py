"""BaseMultiTaskNeck: every multi-task neck declares ``tasks`` and ``task_parameters``, and
follows the output convention (T=1 equivalence with mmdet FPN, per-task levels)."""
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



# ---------------------------------------------------------- output convention
def _inputs(batch=2):
    return tuple(torch.randn(batch, c, 32 // 2**i, 40 // 2**i)
                 for i, c in enumerate(IN_CHANNELS))


def _fpn_shapes(num_outs, add_extra_convs, start_level=0):
    from mmdet.models.necks import FPN

    fpn = FPN(IN_CHANNELS, 16, num_outs, start_level=start_level,
              add_extra_convs=add_extra_convs)
    return [tuple(o.shape) for o in fpn(_inputs())]


NECKS = {
    'SquadNeck': dict(type='SquadNeck', num_shared=1, group_channels=8, out_channels=16),
    'ETRNeck': dict(type='ETRNeck', out_channels=16, gamma=0.5, num_blocks=2),
    'SharedFPNNeck': dict(type='SharedFPNNeck', out_channels=16),
    'PerTaskFPNNeck': dict(type='PerTaskFPNNeck', out_channels=16),
}


@pytest.mark.parametrize('name', list(NECKS))
@pytest.mark.parametrize('num_outs,extra,start', [(3, False, 0), (5, 'on_output', 0),
                                                  (4, 'on_input', 1), (5, False, 0)])
def test_single_task_matches_plain_fpn(name, num_outs, extra, start):
    cfg = dict(NECKS[name], in_channels=IN_CHANNELS, tasks=['det'], num_outs=num_outs,
               start_level=start)
    if name != 'SquadNeck':  # SquadNeck always adds its extra levels on its outputs
        cfg['add_extra_convs'] = extra
    neck = MODELS.build(cfg)
    outs = neck(_inputs())
    assert list(outs) == ['det']
    assert isinstance(outs['det'], tuple)
    assert [tuple(o.shape) for o in outs['det']] == _fpn_shapes(num_outs, extra, start)
    outs['det'][-1].sum().backward()
    assert any(p.grad is not None for p in neck.parameters())


@pytest.mark.parametrize('name', ['ETRNeck', 'PerTaskFPNNeck'])
def test_extra_levels_only_for_detection(name):
    neck = MODELS.build(dict(NECKS[name], in_channels=IN_CHANNELS, tasks=['det', 'enh'],
                             num_outs=5, add_extra_convs='on_output'))
    outs = neck(_inputs())
    assert [o.shape[-2:] for o in outs['det']] == [(32, 40), (16, 20), (8, 10), (4, 5), (2, 3)]
    assert [o.shape[-2:] for o in outs['enh']] == [(32, 40), (16, 20), (8, 10)]


@pytest.mark.parametrize('gamma', [0.0, 0.3, 1.0])
@pytest.mark.parametrize('tasks', [['det', 'enh'], ['seg', 'depth', 'normal', 'sal']])
def test_etr_neck_multitask(gamma, tasks):
    neck = MODELS.build(dict(type='ETRNeck', in_channels=IN_CHANNELS, tasks=tasks,
                             out_channels=16, num_outs=4, gamma=gamma, num_blocks=2,
                             exclusive='nlp'))
    outs = neck(_inputs())
    assert list(outs) == tasks
    shared = int(gamma * 16)
    for t in tasks:
        levels = 4 if t == 'det' else 3
        assert len(outs[t]) == levels
        assert all(o.shape[:2] == (2, 16) for o in outs[t])
        for level in range(3):
            assert torch.equal(outs[t][level][:, :shared], outs[tasks[0]][level][:, :shared])
    if gamma < 1:
        assert not torch.allclose(outs[tasks[0]][0], outs[tasks[1]][0])


def test_shared_fpn_gives_every_task_the_same_levels():
    neck = MODELS.build(dict(type='SharedFPNNeck', in_channels=IN_CHANNELS,
                             tasks=['det', 'enh'], out_channels=16, num_outs=4))
    outs = neck(_inputs())
    assert outs['det'] is outs['enh'] and len(outs['det']) == 4


def test_per_task_fpn_has_one_fpn_per_task():
    from mmdet.models.necks import FPN

    neck = MODELS.build(dict(type='PerTaskFPNNeck', in_channels=IN_CHANNELS,
                             tasks=['det', 'enh', 'depth'], out_channels=16, num_outs=3))
    single = FPN(IN_CHANNELS, 16, 3)
    n = sum(p.numel() for p in single.parameters())
    assert sum(p.numel() for p in neck.parameters()) == 3 * n
    neck.init_weights()
    assert all(fpn.is_init for fpn in neck.fpns.values())  # each FPN's Xavier init ran
    outs = neck(_inputs())
    assert not torch.allclose(outs['det'][0], outs['enh'][0])
    outs['enh'][0].sum().backward()
    assert all(p.grad is None for p in neck.fpns['det'].parameters())


@pytest.mark.parametrize('name', list(NECKS))
def test_wrong_number_of_levels_is_reported(name):
    neck = MODELS.build(dict(NECKS[name], in_channels=IN_CHANNELS, tasks=['det'], num_outs=3))
    with pytest.raises((ValueError, AssertionError), match='3'):
        neck(_inputs()[:2])


@pytest.mark.parametrize('name', ['ETRNeck', 'PerTaskFPNNeck'])
def test_task_parameters_are_reached_only_by_their_task(name):
    neck = MODELS.build(dict(NECKS[name], in_channels=IN_CHANNELS, tasks=['det', 'enh'],
                             num_outs=4, add_extra_convs='on_output'))
    det, enh = neck.task_parameters('det'), neck.task_parameters('enh')
    assert det and enh and not {id(p) for p in det} & {id(p) for p in enh}
    outs = neck(_inputs())
    sum(o.sum() for o in outs['enh']).backward()
    assert all(p.grad is None or not p.grad.any() for p in det)
    assert all(p.grad is not None and p.grad.any() for p in enh)
    with pytest.raises(KeyError, match='seg'):
        neck.task_parameters('seg')
