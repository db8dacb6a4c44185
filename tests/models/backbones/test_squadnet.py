"""SquadNet backbone: stage layout, output shapes, per-task features, the downsampling unit
and the shipped SquadNet-base configs against the official code."""
import math
import os.path as osp

import pytest
import torch

from mtlunder.models.backbones import ShuffleDownsample, SquadNet
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


# --- the downsampling unit and the shipped SquadNet-base configs (official code) -----------

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
NYUD_BASE = osp.join(ROOT, 'configs', 'nyud', 'squadnet-base_aspp_seg-depth_300e_nyud.py')
PASCAL_BASE = osp.join(ROOT, 'configs', 'pascal_context',
                       'squadnet-base_aspp_4task_300e_pascal-context.py')


def _params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('config,num_tasks,expected', [
    (NYUD_BASE, 2, 7_299_584),     # official SquadNet, NYUD-v2 (T = 2), counted
    (PASCAL_BASE, 4, 16_137_216),  # official SquadNet, PASCAL-Context (T = 4), counted
])
def test_shipped_base_configs_have_the_official_backbone_size(config, num_tasks, expected):
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    backbone = MODELS.build(cfg.model.backbone)
    assert backbone.num_tasks == num_tasks
    assert _params(backbone) == expected


def test_downsample_unit_layout_and_shape():
    unit = ShuffleDownsample(12, 24, dict(type='BN'), dict(type='GELU'), shuffle_groups=8)
    out = unit(torch.rand(2, 12, 9, 14))
    assert out.shape == (2, 24, 5, 7)
    # full-width feed-forward at 2C: 1x1, depthwise 3x3 (stride 1), 1x1
    convs = [m.conv for m in unit.feed_forward]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.groups)
            for c in convs] == [(24, 24, (1, 1), (1, 1), 1), (24, 24, (3, 3), (1, 1), 24),
                                (24, 24, (1, 1), (1, 1), 1)]
    assert [type(m.activate).__name__ if m.with_activation else None
            for m in unit.feed_forward] == ['GELU', None, 'GELU']
    # branches + feed-forward = the unit's parameters
    ff = 2 * 24 * 24 + 9 * 24 + 3 * 2 * 24
    assert _params(unit.feed_forward) == ff
    assert _params(unit) == _params(unit.branch1) + _params(unit.branch2) + ff


def test_downsample_unit_has_no_residual_path():
    """With the feed-forward's last BN scaled to 0 the output is GELU(its shift) everywhere,
    whatever the input: nothing bypasses the feed-forward."""
    torch.manual_seed(0)
    unit = ShuffleDownsample(8, 16, dict(type='BN'), dict(type='GELU')).eval()
    last_bn = unit.feed_forward[-1].bn
    with torch.no_grad():
        last_bn.weight.zero_()
        last_bn.bias.copy_(torch.linspace(-1, 1, 16))
        a, b = unit(torch.rand(1, 8, 10, 10)), unit(5 * torch.randn(1, 8, 10, 10))
    expected = torch.nn.functional.gelu(last_bn.bias).view(1, 16, 1, 1).expand(1, 16, 5, 5)
    assert torch.allclose(a, expected) and torch.allclose(b, expected)


def test_downsample_shuffle_only_permutes_the_feed_forward_input():
    """A shuffle before the dense 1x1 of the feed-forward = the same unit with that conv's
    input channels permuted (parameter order only)."""
    torch.manual_seed(0)
    plain = ShuffleDownsample(8, 16, dict(type='BN'), dict(type='GELU')).eval()
    shuffled = ShuffleDownsample(8, 16, dict(type='BN'), dict(type='GELU'),
                                 shuffle_groups=4).eval()
    shuffled.load_state_dict(plain.state_dict())
    # channel k of the shuffled map is channel perm[k] of the concat
    perm = torch.arange(16).view(4, 4).t().reshape(-1)
    with torch.no_grad():
        w = plain.feed_forward[0].conv.weight
        shuffled.feed_forward[0].conv.weight.copy_(w[:, perm])
        x = torch.rand(2, 8, 12, 12)
        assert torch.allclose(plain(x), shuffled(x), atol=1e-6)
    with pytest.raises(ValueError, match='shuffle_groups'):
        ShuffleDownsample(8, 16, dict(type='BN'), dict(type='GELU'), shuffle_groups=3)


def _torch_default_bound(conv):
    """PyTorch's default conv init draws weights uniformly from +-1/sqrt(fan_in)."""
    return 1 / math.sqrt(conv.weight[0].numel())


def test_base_configs_initialise_convs_as_pytorch_does():
    from mmengine.config import Config

    cfg = Config.fromfile(NYUD_BASE)
    cfg.model.backbone.arch = 'tiny'  # same init_cfg, fewer blocks
    model = MODELS.build(cfg.model)
    model.init_weights()
    convs = [m for name, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)
             and name.startswith(('backbone.stages', 'backbone.downsamples', 'heads.'))]
    assert len(convs) > 20
    for conv in convs:
        bound = _torch_default_bound(conv)
        assert conv.weight.abs().max() <= bound + 1e-7
    pw = model.backbone.stages[0][0].aggregate[0].conv  # dense 1x1, 32 -> 32
    assert pw.weight.abs().max() > 0.9 * _torch_default_bound(pw)
    # mmcv ConvModule's own init (Kaiming-normal, fan-out: std sqrt(2 / 32) here), kept by
    # a plain SquadNet, leaves PyTorch's bound 1 / sqrt(32)
    plain = SquadNet(arch='tiny', num_tasks=2, num_shared=2, group_channels=(8, 16, 32))
    plain.init_weights()
    pw = plain.stages[0][0].aggregate[0].conv
    assert pw.weight.abs().max() > 1.5 * _torch_default_bound(pw)


def _base_configs():
    import glob

    return sorted(glob.glob(osp.join(ROOT, 'configs', 'nyud', '*squadnet-base*.py')) +
                  glob.glob(osp.join(ROOT, 'configs', 'pascal_context', '*squadnet-base*.py')))


def test_every_squadnet_base_config_follows_the_reference_recipe():
    from mmengine.config import Config

    configs = _base_configs()
    assert len(configs) == 12
    for path in configs:
        cfg = Config.fromfile(path)
        name = osp.basename(path)
        assert cfg.model.heads and all(
            head.decode_head.type == 'DeepLabHead' and head.decode_head.dropout_ratio == 0.5
            for head in cfg.model.heads.values()), name
        assert cfg.model.backbone.init_cfg.distribution == 'uniform', name
        (poly, ) = cfg.param_scheduler
        assert (poly.type, poly.power, poly.by_epoch, poly.end) == ('PolyLR', 0.99, True, 300)
        steps = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
        test_steps = {t.type: t for t in cfg.val_dataloader.dataset.pipeline}
        assert 'PairedRandomCrop' not in steps and steps['PairedRandomFlip'].prob == 0.5
        if 'nyud' in path:
            assert steps['PairedRandomScaleRotate'].scale_choices == [1.0, 1.2, 1.5]
            assert steps['PairedRandomScaleRotate'].get('rotate_range') is None
            size = (640, 480)
        else:
            assert tuple(steps['PairedRandomScaleRotate'].scale_range) == (0.75, 1.25)
            assert tuple(steps['PairedRandomScaleRotate'].rotate_range) == (-20, 20)
            size = (512, 512)
        assert steps['PairedRandomScaleRotate'].interpolation == 'bicubic'
        for resize in (steps['PairedResize'], test_steps['PairedResize']):
            assert tuple(resize.scale) == size and resize.keep_ratio is False, name
            assert resize.interpolation == 'bicubic', name
