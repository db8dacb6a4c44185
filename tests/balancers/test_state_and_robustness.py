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
    NashMTL=dict(update_every=2), DBMTL={},
    UPGrad={}, DualProj={}, FairGrad={}, TorchJDMGDA={}, TorchJDCAGrad={}, TorchJDIMTLG={},
    TorchJDAlignedMTL={}, TorchJDPCGrad=dict(seed=1), TorchJDWeighting=dict(weighting='UPGrad'),
    GradVac=dict(seed=1), GradDrop=dict(seed=1), MoCo={}, STCH=dict(warmup_epochs=1), PBI={},
    TorchJDAggregator=dict(aggregator='ConFIG'), ConFIG={}, TorchJDGradDrop=dict(seed=1),
    TrimmedMean={}, Mean={}, Sum={}, Constant=dict(weights=[1.0, 0.5, 2.0]), Random=dict(seed=1),
    TorchJDNashMTL={}, ExcessMTL={}, MoDo={}, SDMGrad={}, CRMOGM={}, PCD={})


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
    present = TASKS if bal.needs_every_task else ['a', 'b']
    if bal.needs_every_task:
        with pytest.raises(ValueError, match=r"lacks \['c'\]"):
            _step(bal, 7, present=['a', 'b'])
    w, out, grads = _step(bal, 7, present=present, zero='a')
    assert set(w) == set(present)
    assert all(torch.isfinite(torch.tensor(v)) for v in w.values())
    assert bool(torch.isfinite(out).all())
    if grads is not None:
        assert all(bool(torch.isfinite(g).all()) for g in grads)


def _state(bal):
    return {k: v.clone() for k, v in bal.state_dict().items()}, dict(bal.last_weights)


def _same_state(a, b):
    return a[1] == b[1] and a[0].keys() == b[0].keys() and \
        all(torch.equal(a[0][k], b[0][k]) for k in a[0])


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_computing_weights_has_no_side_effects(name):
    """``weighted_loss`` / ``gram_weights`` / ``aggregate`` change nothing: not the buffers,
    the parameters nor the recorded weights, also before the first step."""
    for warm in (False, True):
        bal = _build(name)
        if warm:
            _advance(bal, steps=2)
        before = _state(bal)
        g = torch.Generator().manual_seed(5)
        losses = {t: torch.rand((), generator=g, dtype=torch.float64) + 0.5 for t in TASKS}
        grads = torch.randn(3, 5, generator=g, dtype=torch.float64)
        if not bal.grad_based:
            total, weights = bal.weighted_loss(losses)
            assert weights.shape == (3, ) and bool(torch.isfinite(total))
        elif bal.gram_suffices:
            assert bal.gram_weights(grads @ grads.T, losses).shape == (3, )
        else:
            update, weights = bal.aggregate(grads, losses)
            assert update.shape == (5, ) and weights.shape == (3, )
        assert _same_state(before, _state(bal)), name


STATEFUL = ['RLW', 'DWA', 'GeMTL', 'FAMO', 'GradNorm', 'PCGrad', 'NashMTL', 'DBMTL',
            'TorchJDPCGrad', 'GradVac', 'GradDrop', 'MoCo', 'TorchJDGradDrop', 'Random',
            'TorchJDNashMTL', 'ExcessMTL', 'CRMOGM', 'PCD']


@pytest.mark.parametrize('name', STATEFUL)
def test_step_state_changes_in_update_and_only_in_training(name):
    bal = _build(name)
    _step(bal, 0)
    bal.eval()
    before = _state(bal)
    _step(bal, 1)
    assert _same_state((before[0], {}), (_state(bal)[0], {})), 'eval mode changed the state'
    bal.train()
    _step(bal, 1)
    assert not _same_state((before[0], {}), (_state(bal)[0], {})), 'update changed nothing'


def test_record_and_skipped_steps_are_public():
    bal = _build('EW')
    assert bal.record(['a', 'b'], torch.tensor([0.25, 2.0])) == {'a': 0.25, 'b': 2.0}
    assert bal.last_weights == {'a': 0.25, 'b': 2.0}
    assert bal.record_skipped_step() == 1 and bal.record_skipped_step() == 2
    assert int(bal.state_dict()['skipped_steps']) == 2
