"""STCH: the softmax weights, the Tchebycheff limit, autograd, partial tasks, LibMTL's warm-up
normalisation and a bf16 autocast step (DDP exactness with partial labels:
tests/engine/test_multitask_step_ddp.py)."""
import copy
import math

import pytest
import torch

from mtlunder.balancers import build_balancer
from tests.balancers.toy_model import ToyMultiTask, make_batch, train_steps

TASKS = ['a', 'b', 'c', 'd']
PREF = [0.5, 1.0, 2.0, 1.5]
IDEAL = [0.1, 0.0, 0.3, 0.2]


def _losses(values, tasks=TASKS):
    return {t: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for t, v in zip(tasks, values)}


def _autograd(total, losses):
    return torch.stack(torch.autograd.grad(total, list(losses.values())))


@pytest.mark.parametrize('mu', [0.05, 1.0, 10.0])
def test_weights_are_the_softmax_and_the_gradient(mu):
    losses = _losses([0.7, 2.0, 0.4, 1.1])
    balancer = build_balancer(dict(type='STCH', mu=mu, pref=PREF, ideal=IDEAL), TASKS)
    total, w = balancer.weighted_loss(losses)
    p, z = torch.tensor(PREF, dtype=torch.float64), torch.tensor(IDEAL, dtype=torch.float64)
    scores = p * (torch.tensor([0.7, 2.0, 0.4, 1.1], dtype=torch.float64) - z) / mu
    assert torch.allclose(w, p * torch.softmax(scores, 0), atol=1e-12, rtol=0)
    assert math.isclose(float(total), mu * math.log(float(scores.exp().sum())), rel_tol=1e-12)
    assert torch.allclose(_autograd(total, losses), w, atol=1e-12, rtol=0)


def test_small_mu_gives_the_tchebycheff_max():
    values = [0.7, 2.0, 0.4, 1.1]
    target = max(p * (v - z) for p, v, z in zip(PREF, values, IDEAL))
    for mu in (1e-1, 1e-2, 1e-4):
        balancer = build_balancer(dict(type='STCH', mu=mu, pref=PREF, ideal=IDEAL), TASKS)
        total, w = balancer.weighted_loss(_losses(values))
        assert target <= float(total) <= target + mu * math.log(4) + 1e-12
    argmax = max(range(4), key=lambda i: PREF[i] * (values[i] - IDEAL[i]))
    assert float(w[argmax]) == pytest.approx(PREF[argmax], abs=1e-9)   # all on the max task


def test_log_losses_gradient_matches_autograd():
    losses = _losses([0.7, 2.0, 0.4, 1.1])
    balancer = build_balancer(dict(type='STCH', mu=0.5, pref=PREF, log_losses=True), TASKS)
    total, w = balancer.weighted_loss(losses)
    assert torch.allclose(_autograd(total, losses), w, atol=1e-12, rtol=0)
    logs = torch.tensor([0.7, 2.0, 0.4, 1.1], dtype=torch.float64).log()
    assert math.isclose(float(total), 0.5 * float(torch.logsumexp(
        torch.tensor(PREF, dtype=torch.float64) * logs / 0.5, 0)), rel_tol=1e-12)


def test_partial_tasks_use_their_own_entries_only():
    balancer = build_balancer(dict(type='STCH', mu=0.3, pref=PREF, ideal=IDEAL), TASKS)
    sub = build_balancer(dict(type='STCH', mu=0.3, pref=[PREF[1], PREF[3]],
                              ideal=[IDEAL[1], IDEAL[3]]), ['b', 'd'])
    losses = _losses([2.0, 1.1], ['b', 'd'])
    total, w = balancer.combine(losses)
    expected, w_sub = sub.weighted_loss(losses)
    assert float(total) == pytest.approx(float(expected), abs=1e-12)
    assert set(w) == {'b', 'd'}
    assert torch.allclose(torch.tensor([w['b'], w['d']], dtype=torch.float64), w_sub)
    with pytest.raises(ValueError, match='pref has 2 entries for 4 tasks'):
        build_balancer(dict(type='STCH', pref=[1.0, 2.0]), TASKS)


def test_warmup_sets_the_nadir_from_the_last_warmup_epoch_and_resumes():
    balancer = build_balancer(dict(type='STCH', mu=0.5, log_losses=True, warmup_epochs=2),
                              TASKS)
    balancer.train()
    losses = _losses([0.7, 2.0, 0.4, 1.1])
    total, _ = balancer.combine(losses)                    # epoch 0: sum of log-losses
    assert float(total) == pytest.approx(math.log(0.7 * 2.0 * 0.4 * 1.1), abs=1e-12)
    balancer.epoch_end()
    balancer.combine(_losses([1.0, 4.0, 0.2, 1.0]))          # epoch 1 (the last warm-up one)
    balancer.combine(_losses([3.0, 2.0], ['a', 'c']))
    assert balancer.loss_count.tolist() == [2, 1, 2, 1]
    resumed = build_balancer(dict(type='STCH', mu=0.5, log_losses=True, warmup_epochs=2),
                             TASKS)
    resumed.load_state_dict(balancer.state_dict())
    for b in (balancer, resumed):
        b.epoch_end()
        assert b.nadir.tolist() == pytest.approx([2.0, 4.0, 1.1, 1.0])
        total, _ = b.weighted_loss(_losses([2.0, 4.0, 1.1, 1.0]))     # every f_i = 0
        assert float(total) == pytest.approx(0.5 * math.log(4), abs=1e-12)


def test_toy_step_moves_and_reports_the_softmax():
    model = ToyMultiTask(dict(type='STCH', mu=0.2))
    start = copy.deepcopy(model.state_dict())
    train_steps(model, [make_batch(5)])
    w = model.balancer.last_weights
    assert set(w) == {'a', 'b'} and sum(w.values()) == pytest.approx(1.0, abs=1e-9)
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-3


def test_cpu_bf16_autocast_step_runs():
    from mtlunder.compat import CPUAutocastOptimWrapper

    model = ToyMultiTask(dict(type='STCH', mu=0.5, log_losses=True), dtype=torch.float32)
    start = copy.deepcopy(model.state_dict())
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(make_batch(11, dtype=torch.float32), wrapper)
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all())
               for p in model.parameters())
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-4
    assert set(model.balancer.last_weights) == {'a', 'b'}
