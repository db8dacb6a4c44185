"""Every balancer: exact state_dict round trip; zero/absent tasks never give NaN."""
import copy

import pytest
import torch

from mtlunder.balancers import BaseBalancer, build_balancer
from mtlunder.registry import BALANCERS

TASKS = ['a', 'b', 'c']
CONFIGS = dict(
    EW=dict(weights=dict(a=2.0)), RLW=dict(seed=1), UW={}, DWA={}, GLS={},
    GeMTL=dict(p_start=-0.5, p_end=0.5, total_steps=10), DTP={},
    AMTL=dict(potentials=dict(a=0.5, b=0.6, c=0.7)), FAMO={}, IMTLL={}, GradNorm={},
    MGDA={}, MGDAUB={}, PCGrad={}, CAGrad={}, IMTLG={}, IMTL={}, AlignedMTL={},
    NashMTL=dict(update_every=2), DBMTL={})


def _build(name):
    return build_balancer(dict(type=name, **copy.deepcopy(CONFIGS[name])), TASKS)


def _step(bal, k, present=TASKS, zero=None):
    """One training call; returns (weights, update or total)."""
    g = torch.Generator().manual_seed(k)
    losses = {t: (torch.rand((), generator=g, dtype=torch.float64) + 0.5).requires_grad_()
              for t in present}
    if zero is not None:
        losses[zero] = torch.zeros((), dtype=torch.float64, requires_grad=True)
    if bal.grad_based:
        grads = torch.randn(len(present), 5, generator=g, dtype=torch.float64)
        if zero is not None:
            grads[list(losses).index(zero)] = 0
        vals = bal.transform_losses(torch.stack([v.detach() for v in losses.values()]),
                                    list(losses))
        out, w = bal.combine_grads(grads, dict(zip(losses, vals.detach())))
        return w, out, None
    total, w = bal.combine(losses)
    grads = torch.autograd.grad(total, list(losses.values()) +
                                [p for p in bal.parameters() if p.requires_grad])
    return w, total.detach(), grads


def _advance(bal, steps=3):
    for k in range(steps):
        _step(bal, k)
        with torch.no_grad():
            for p in bal.parameters():
                p.add_(0.1 * (k + 1))
        bal.update_kpis(dict(a=0.2 + 0.1 * k, b=0.5, c=0.9))
        if bal.needs_post_step_losses:
            bal.post_step({t: torch.tensor(0.3 + 0.1 * k) for t in TASKS})
        bal.epoch_end()


def test_every_registered_balancer_is_covered():
    names = {n for n, cls in BALANCERS.module_dict.items() if cls is not BaseBalancer}
    assert names == set(CONFIGS)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_state_dict_round_trip(name, tmp_path):
    bal = _build(name)
    _advance(bal)
    path = tmp_path / 'balancer.pth'
    torch.save(bal.state_dict(), path)
    loaded = torch.load(path, weights_only=True)
    fresh = _build(name)
    fresh.load_state_dict(loaded)
    for key, value in bal.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    w1, out1, _ = _step(bal, 99)
    w2, out2, _ = _step(fresh, 99)
    assert w1 == w2
    assert torch.equal(out1, out2)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_zero_and_absent_task_never_nan(name):
    bal = _build(name)
    _advance(bal, steps=2)
    w, out, grads = _step(bal, 7, present=['a', 'b'], zero='a')
    assert set(w) == {'a', 'b'}
    assert all(torch.isfinite(torch.tensor(v)) for v in w.values())
    assert bool(torch.isfinite(out).all())
    if grads is not None:
        assert all(bool(torch.isfinite(g).all()) for g in grads)
