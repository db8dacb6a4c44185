"""SquadBlock and SquadNeck against METHODS.md section 1."""
import pytest
import torch

from mtlunder.models.layers import SquadBlock
from mtlunder.models.necks import SquadNeck


pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.mark.parametrize('num_tasks,num_shared,c', [(1, 0, 8), (1, 2, 4), (2, 2, 4), (4, 2, 2)])
def test_block_keeps_shape(num_tasks, num_shared, c):
    block = SquadBlock(num_tasks, num_shared, c)
    x = torch.randn(2, c * (num_tasks + num_shared), 6, 5)
    assert block(x).shape == x.shape


def test_block_follows_the_definition():
    """z = cat(expert_t(group_t), shared groups unchanged); out = x + Aggregate(z)."""
    torch.manual_seed(0)
    block = SquadBlock(2, 2, 3).eval()
    x = torch.randn(2, 12, 5, 5)
    seen = {}
    block.aggregate.register_forward_hook(lambda m, inp, out: seen.update(z=inp[0], a=out))
    out = block(x)
    g = x.split(3, dim=1)
    expected_z = torch.cat([block.experts[0](g[0]), block.experts[1](g[1]), g[2], g[3]], 1)
    torch.testing.assert_close(seen['z'], expected_z)
    torch.testing.assert_close(out, x + seen['a'])


def test_block_wrong_width_is_named():
    with pytest.raises(ValueError, match=r'\[B, 12, H, W\]'):
        SquadBlock(2, 2, 3)(torch.randn(1, 10, 4, 4))


def test_channel_shuffle_is_a_parameter_permutation():
    torch.manual_seed(0)
    num_tasks, num_shared, c = 2, 1, 3
    plain = SquadBlock(num_tasks, num_shared, c).eval()
    shuffled = SquadBlock(num_tasks, num_shared, c, channel_shuffle=True).eval()
    shuffled.load_state_dict(plain.state_dict())
    groups = num_tasks + num_shared
    # shuffled channel k = ci * G + g holds plain channel g * c + ci
    perm = torch.tensor([g * c + ci for ci in range(c) for g in range(groups)])
    first = shuffled.aggregate[0].conv
    with torch.no_grad():
        first.weight.copy_(plain.aggregate[0].conv.weight[:, perm])
    x = torch.randn(2, c * groups, 5, 4)
    torch.testing.assert_close(shuffled(x), plain(x))
    shuffled.load_state_dict(plain.state_dict())
    assert not torch.allclose(shuffled(x), plain(x))


def _inputs(batch=2, size=32, channels=(8, 16, 32)):
    return tuple(torch.randn(batch, ch, size >> i, size >> i) for i, ch in enumerate(channels))


@pytest.mark.parametrize('tasks,num_shared,c,num_blocks', [
    (['det'], 0, 8, 1), (['det'], 2, 4, 2), (['det', 'enh'], 2, 4, 1),
    (['det', 'enh', 'seg'], 1, 2, 2)])
def test_neck_shapes_with_extra_levels(tasks, num_shared, c, num_blocks):
    neck = SquadNeck([8, 16, 32], tasks, num_shared=num_shared, group_channels=c,
                     num_blocks=num_blocks, out_channels=12, num_outs=5)
    outs = neck(_inputs())
    assert list(outs) == tasks
    for task, levels in outs.items():
        sizes = [32, 16, 8, 4, 2] if task == 'det' else [32, 16, 8]
        assert [lv.shape for lv in levels] == [torch.Size([2, 12, s, s]) for s in sizes]


def test_default_extra_levels_only_for_det():
    outs = SquadNeck([8, 16, 32], ['enh'], group_channels=4, num_outs=5)(_inputs())
    assert len(outs['enh']) == 3


def test_neck_without_projection_and_start_level():
    neck = SquadNeck([8, 16, 32], ['det', 'enh'], num_shared=2, group_channels=4,
                     start_level=1, num_outs=3, extra_levels_tasks=('det', 'enh'))
    outs = neck(_inputs())
    for levels in outs.values():
        assert [tuple(lv.shape[1:]) for lv in levels] == [(12, 16, 16), (12, 8, 8), (12, 4, 4)]


def test_single_task_neck_is_plain():
    """T = 1 without projection: the task reads every channel of the block output."""
    torch.manual_seed(0)
    neck = SquadNeck([8, 16, 32], ['det'], num_shared=1, group_channels=4).eval()
    x = _inputs()
    out = neck(x)['det']
    lat = [conv(f) for conv, f in zip(neck.lateral_convs, x)]
    lat[1] = lat[1] + torch.nn.functional.interpolate(lat[2], size=lat[1].shape[2:])
    lat[0] = lat[0] + torch.nn.functional.interpolate(lat[1], size=lat[0].shape[2:])
    for level, lateral, blocks in zip(out, lat, neck.blocks):
        torch.testing.assert_close(level, blocks(lateral))


@pytest.mark.parametrize('top_down', [True, False])
def test_top_down_fusion(top_down):
    torch.manual_seed(0)
    neck = SquadNeck([8, 16, 32], ['det', 'enh'], group_channels=4, top_down=top_down).eval()
    x = _inputs()
    y = x[:2] + (x[2] + 1, )
    changed = not torch.allclose(neck(x)['enh'][0], neck(y)['enh'][0])
    assert changed == top_down


def test_neck_task_parameters_are_exclusive():
    torch.manual_seed(0)
    neck = SquadNeck([8, 16, 32], ['det', 'enh'], group_channels=4, out_channels=6, num_outs=4)
    outs = neck(_inputs())
    det_loss = sum(lv.square().mean() for lv in outs['det'])
    enh_params = neck.task_parameters('enh')
    grads = torch.autograd.grad(det_loss, enh_params, allow_unused=True)
    assert all(g is None for g in grads)
    det_grads = torch.autograd.grad(det_loss, neck.task_parameters('det'), allow_unused=True)
    assert all(g is not None for g in det_grads)
    assert len(neck.task_parameters('det')) > len(enh_params)  # det also has the extra convs
    with pytest.raises(KeyError, match='seg'):
        neck.task_parameters('seg')


def test_neck_config_errors_are_clear():
    with pytest.raises(ValueError, match='extra_levels_tasks'):
        SquadNeck([8, 16], ['enh'], num_outs=3, extra_levels_tasks=['det'])
    with pytest.raises(ValueError, match='num_outs'):
        SquadNeck([8, 16], ['det'], num_outs=1)
    with pytest.raises(ValueError, match='2 input levels'):
        SquadNeck([8, 16], ['det'])(_inputs())
