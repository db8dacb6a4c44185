"""ETR-NLP: fixed primitives (math, buffers, seeds), NLP layer, ETR block and backbone."""
import pytest
import torch
import torch.nn.functional as F

from mtlunder.models.backbones import ETRNLPNet
from mtlunder.models.layers import ETRBlock, NLPLayer, NLPPrimitives

ALL = ('dw3x3', 'dilated_dw3x3', 'perturb', 'shift', 'avgpool')


def test_primitives_match_their_definition():
    prims = NLPPrimitives(3, ALL, seed=5, act_cfg=None)
    x = torch.randn(2, 3, 9, 11)
    out = prims(x)
    assert out.shape == (2, 3 * 5, 9, 11)
    k = 5
    resp = {name: out[:, i::k] for i, name in enumerate(ALL)}  # channel c*k + i
    dw = prims.kernels[0]
    assert torch.allclose(resp['dw3x3'], F.conv2d(x, dw, padding=1, groups=3), atol=1e-6)
    dil = prims.kernels[1]
    assert torch.allclose(resp['dilated_dw3x3'],
                          F.conv2d(x, dil, padding=2, dilation=2, groups=3), atol=1e-6)
    assert torch.allclose(resp['perturb'], x + prims.offsets[2].view(1, 3, 1, 1), atol=1e-6)
    assert prims.offsets[2].abs().sum() > 0
    assert torch.allclose(resp['avgpool'],
                          F.avg_pool2d(x, 3, 1, 1, count_include_pad=True), atol=1e-6)
    # shift: channel 0 moves right by one pixel, channel 2 down by one pixel
    assert torch.equal(resp['shift'][:, 0, :, 1:], x[:, 0, :, :-1])
    assert torch.all(resp['shift'][:, 0, :, 0] == 0)
    assert torch.equal(resp['shift'][:, 2, 1:, :], x[:, 2, :-1, :])


def test_responses_interleaved_per_input_channel():
    prims = NLPPrimitives(4, ('dw3x3', 'shift', 'avgpool'), act_cfg=None)
    x = torch.zeros(1, 4, 7, 7)
    x[0, 2] = torch.rand(7, 7)
    out = prims(x)
    nonzero = out.abs().flatten(2).sum(-1)[0] > 0
    assert nonzero.tolist() == [False] * 6 + [True] * 3 + [False] * 3


def test_primitives_are_seeded_buffers_never_trained():
    layer = NLPLayer(4, 8, ALL, seed=3)
    fixed = dict(layer.primitives.named_buffers())
    assert set(fixed) == {'kernels', 'offsets'}
    param_ids = {id(p) for p in layer.parameters()}
    assert all(id(b) not in param_ids and not b.requires_grad for b in fixed.values())
    assert {'primitives.kernels', 'primitives.offsets'} <= set(layer.state_dict())
    before = {k: v.clone() for k, v in fixed.items()}
    opt = torch.optim.SGD(layer.parameters(), lr=1.0)
    layer(torch.randn(2, 4, 8, 8)).square().mean().backward()
    opt.step()
    assert all(b.grad is None for b in fixed.values())
    assert all(torch.equal(before[k], v) for k, v in layer.primitives.named_buffers())
    assert layer.recombine.conv.conv.weight.grad.abs().sum() > 0
    # reproducible from the seed, different for another seed
    same, other = NLPLayer(4, 8, ALL, seed=3), NLPLayer(4, 8, ALL, seed=4)
    assert torch.equal(same.primitives.kernels, before['kernels'])
    assert torch.equal(same.primitives.offsets, before['offsets'])
    assert not torch.equal(other.primitives.kernels, before['kernels'])


@pytest.mark.parametrize('cin,cout,groups', [(4, 8, 4), (8, 8, 8), (8, 4, 4), (6, 4, 2)])
def test_recombination_groups_and_parameter_count(cin, cout, groups):
    layer = NLPLayer(cin, cout, ('dw3x3', 'shift'), norm_cfg=None)
    conv = layer.recombine.conv.conv
    assert conv.groups == groups
    # grouped 1x1: each output reads k * cin / groups responses, plus a bias
    assert sum(p.numel() for p in layer.parameters()) == cout * 2 * cin // groups + cout
    assert layer(torch.randn(1, cin, 5, 5)).shape == (1, cout, 5, 5)


@pytest.mark.parametrize('gamma', [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize('tasks', [('det', ), ('det', 'enh'), ('seg', 'depth', 'normal')])
@pytest.mark.parametrize('exclusive', ['conv', 'nlp'])
def test_etr_block_shapes(gamma, tasks, exclusive):
    block = ETRBlock(8, 16, tasks, gamma=gamma, exclusive=exclusive)
    shared = int(gamma * 16)
    assert (block.shared_channels, block.exclusive_channels) == (shared, 16 - shared)
    out = block(torch.randn(2, 8, 6, 5))
    assert set(out) == set(tasks)
    for t in tasks:
        assert out[t].shape == (2, 16, 6, 5)
        assert torch.equal(out[t][:, :shared], out[tasks[0]][:, :shared])
    if len(tasks) > 1 and gamma < 1:
        assert not torch.allclose(out[tasks[0]][:, shared:], out[tasks[1]][:, shared:])


@pytest.mark.parametrize('exclusive', ['conv', 'nlp'])
def test_routing_keeps_task_exclusive_features_apart(exclusive):
    first = ETRBlock(8, 8, ('a', 'b'), gamma=0.5, exclusive=exclusive)
    second = ETRBlock(8, 8, ('a', 'b'), gamma=0.5, in_shared_channels=first.shared_channels,
                      exclusive=exclusive)
    feats = first(torch.randn(1, 8, 6, 6))
    out = second(feats)
    # changing task b's exclusive channels cannot change task a's output
    poked = dict(feats, b=torch.cat([feats['b'][:, :4], torch.randn(1, 4, 6, 6)], dim=1))
    out2 = second(poked)
    assert torch.equal(out['a'], out2['a'])
    assert not torch.equal(out['b'], out2['b'])
    # task a's loss gives no gradient to task b's exclusive branch
    first.zero_grad()
    second.zero_grad()
    second(first(torch.randn(1, 8, 6, 6)))['a'].sum().backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0
               for p in second.task_branches['b'].parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in second.task_branches['a'].parameters())


def test_etr_block_errors():
    with pytest.raises(ValueError, match='gamma'):
        ETRBlock(4, 4, ('a', ), gamma=1.5)
    with pytest.raises(ValueError, match='exclusive'):
        ETRBlock(4, 4, ('a', ), exclusive='mlp')
    with pytest.raises(ValueError, match='input channels'):
        ETRBlock(4, 4, ('a', ))(torch.randn(1, 5, 3, 3))
    with pytest.raises(ValueError, match='primitives'):
        NLPPrimitives(4, ('dw3x3', 'gabor'))


@pytest.mark.parametrize('gamma,tasks', [(0.5, ('det', 'enh')), (0.25, ('a', 'b', 'c'))])
def test_etr_nlp_net_shapes(gamma, tasks):
    net = ETRNLPNet(tasks, widths=(8, 16, 32), depths=(1, 2, 1), gamma=gamma, stem_channels=8)
    outs = net(torch.rand(2, 3, 32, 48))
    T = len(tasks)
    merged = [int(gamma * w) + T * (w - int(gamma * w)) for w in (8, 16, 32)]
    assert [tuple(o.shape) for o in outs] == [(2, merged[0], 8, 12), (2, merged[1], 4, 6),
                                              (2, merged[2], 2, 3)]
    assert net.out_channels == tuple(merged)
    x = torch.rand(1, 3, 32, 48)
    net.eval()
    with torch.no_grad():
        merged_out = net(x)
        net.task_outputs = True
        per_task = net(x)
    assert set(per_task) == set(tasks)
    assert [o.shape[1] for o in per_task[tasks[-1]]] == [8, 16, 32] == list(net.out_channels)
    for level, w in enumerate((8, 16, 32)):
        s, e = int(gamma * w), w - int(gamma * w)
        for t, task in enumerate(tasks):
            m = merged_out[level]
            assert torch.equal(per_task[task][level],
                               torch.cat([m[:, :s], m[:, s + t * e:s + (t + 1) * e]], dim=1))
