"""SquadNet backbone: stage layout, output shapes and per-task features."""
import pytest
import torch

from mtlunder.models.backbones import SquadNet
from mtlunder.registry import MODELS


def _expected(h, w, widths, T, S):
    sizes, shapes = (h, w), []
    for i, c in enumerate(widths):
        # stride-2 stem then stride-2 downsampling before stages 2 and 3: ceil halving
        sizes = tuple((s + 1) // 2 for s in sizes)
        shapes.append((c * (T + S), *sizes))
    return shapes


@pytest.mark.parametrize('arch,depths', [('base', (8, 8, 8)), ('small', (4, 4, 4)),
                                         ('tiny', (2, 2, 2))])
def test_arch_depths_and_shapes(arch, depths):
    net = MODELS.build(dict(type='SquadNet', arch=arch, num_tasks=2, num_shared=1,
                            group_channels=(4, 8, 16)))
    assert tuple(len(stage) for stage in net.stages) == depths
    net.eval()
    with torch.no_grad():
        outs = net(torch.rand(1, 3, 24, 40))
    assert [tuple(o.shape[1:]) for o in outs] == _expected(24, 40, (4, 8, 16), 2, 1)


@pytest.mark.parametrize('T,S,widths', [(1, 0, (32, 64, 128)), (2, 2, (32, 64, 128)),
                                         (1, 2, (8, 16, 32)), (4, 2, (8, 16, 32))])
def test_tiny_shapes_for_several_task_splits(T, S, widths):
    net = SquadNet(arch='tiny', num_tasks=T, num_shared=S, group_channels=widths,
                   shuffle=T > 1)
    outs = net(torch.rand(2, 3, 33, 47))
    shapes = _expected(33, 47, widths, T, S)
    assert [tuple(o.shape) for o in outs] == [(2, *s) for s in shapes]
    assert net.out_channels == tuple(s[0] for s in shapes)
    # output stride 8 at the last stage
    assert outs[-1].shape[-2:] == (5, 6)


def test_out_indices():
    net = SquadNet(arch='tiny', num_tasks=2, num_shared=1, group_channels=(4, 8, 16),
                   out_indices=(1, 2))
    outs = net(torch.rand(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [8 * 3, 16 * 3] == list(net.out_channels)
    assert [o.shape[-1] for o in outs] == [8, 4]


def test_task_outputs_are_task_group_plus_shared():
    torch.manual_seed(0)
    net = SquadNet(arch='tiny', tasks=('det', 'enh', 'depth'), num_shared=2,
                   group_channels=(4, 8, 16)).eval()
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        full = net(x)
        net.task_outputs = True
        per_task = net(x)
    assert set(per_task) == {'det', 'enh', 'depth'}
    assert net.out_channels == (4 * 3, 8 * 3, 16 * 3)
    for t, task in enumerate(('det', 'enh', 'depth')):
        for level, c in enumerate((4, 8, 16)):
            f = full[level]
            expected = torch.cat([f[:, t * c:(t + 1) * c], f[:, 3 * c:]], dim=1)
            assert torch.equal(per_task[task][level], expected)


def test_task_outputs_keyed_by_index_without_names():
    net = SquadNet(arch='tiny', num_tasks=2, num_shared=0, group_channels=(4, 8, 16),
                   task_outputs=True, out_indices=(2, ))
    outs = net(torch.rand(1, 3, 16, 16))
    assert set(outs) == {0, 1}
    assert outs[1][0].shape == (1, 16, 2, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match='arch'):
        SquadNet(arch='huge')
    with pytest.raises(ValueError, match='out_indices'):
        SquadNet(arch='tiny', out_indices=(3, ))
    with pytest.raises(ValueError, match='depths'):
        SquadNet(depths=(1, 1), group_channels=(4, 8, 16))
