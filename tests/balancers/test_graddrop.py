"""GradDrop: agreement with TorchJD's GradDrop for the same draws, every element following
its sampled sign, the expected update, leaks, resume, a toy step and bf16 autocast (DDP
exactness with partial labels: tests/engine/test_multitask_step_ddp.py)."""
import copy

import pytest
import torch

from mtlunder.balancers import build_balancer
from mtlunder.balancers.base import seeded_generator
from tests.balancers.toy_model import ToyMultiTask, make_batch, train_steps

TASKS = ['a', 'b', 'c']


def _jacobian(seed=0, n=3, size=40):
    """``[n, size]`` float64 gradients with mixed signs and some all-zero columns."""
    jac = torch.randn(n, size, generator=torch.Generator().manual_seed(seed),
                      dtype=torch.float64)
    jac[:, :3] = 0
    return jac


def _losses(tasks):
    return {t: torch.tensor(1.0) for t in tasks}


def _purity(jac):
    return 0.5 * (1 + jac.sum(0) / jac.abs().sum(0))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='leak must be in'):
        build_balancer(dict(type='GradDrop', leak=1.5), TASKS)
    with pytest.raises(KeyError, match="task 'x' is not one of"):
        build_balancer(dict(type='GradDrop', leak=dict(x=0.1)), TASKS)
    with pytest.raises(ValueError, match=r"grad_source in \('params',\)"):
        build_balancer(dict(type='GradDrop', grad_source='repr'), TASKS)


def test_same_update_as_torchjd_for_the_same_draws():
    from torchjd.aggregation import GradDrop

    balancer = build_balancer(dict(type='GradDrop', leak=dict(a=0.2, c=0.5), seed=4), TASKS)
    theirs = GradDrop(leak=torch.tensor([0.2, 0.0, 0.5], dtype=torch.float64))
    for k in range(4):
        jac = _jacobian(k)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seeded_generator(4, int(balancer.step)).initial_seed())
            expected = theirs(jac)
        update, _ = balancer.combine_grads(jac, _losses(TASKS))
        assert float((update - expected).abs().max()) < 1e-12
    assert int(balancer.step) == 4


def test_every_element_follows_its_sampled_sign():
    balancer = build_balancer(dict(type='GradDrop', seed=1), TASKS)
    jac = _jacobian(2)
    draw = balancer.uniform(jac.shape[1], jac.dtype)
    update, kept = balancer.combine_grads(jac, _losses(TASKS))
    positive = _purity(jac)[3:] > draw[3:]
    pos_sum, neg_sum = jac.clamp_min(0).sum(0)[3:], jac.clamp_max(0).sum(0)[3:]
    assert float((update[3:] - torch.where(positive, pos_sum, neg_sum)).abs().max()) < 1e-12
    assert bool(positive.any()) and bool((~positive).any())
    assert torch.equal(update[:3], torch.zeros(3, dtype=torch.float64))
    # reported: the share of each task's squared norm kept
    for i, task in enumerate(TASKS):
        row = jac[i, 3:]
        share = float((row * row * (positive == (row > 0))).sum() / (row * row).sum())
        assert abs(kept[task] - share) < 1e-12 and 0 < kept[task] < 1


def test_expected_update_is_the_sum_of_the_gradients():
    """``E[update_k] = P_k sum_i max(g_ik, 0) + (1 - P_k) sum_i min(g_ik, 0) = sum_i g_ik``:
    the mean over 4000 steps lies within 5 standard errors in every element, while single
    updates differ from the sum."""
    balancer = build_balancer(dict(type='GradDrop', seed=2), TASKS)
    jac = _jacobian(3, size=12)[:, 3:]
    purity = _purity(jac)
    pos, neg = jac.clamp_min(0).sum(0), jac.clamp_max(0).sum(0)
    updates = torch.stack([balancer.combine_grads(jac, _losses(TASKS))[0] for _ in range(4000)])
    expected = purity * pos + (1 - purity) * neg
    assert float((expected - jac.sum(0)).abs().max()) < 1e-12
    stderr = (purity * (1 - purity)).sqrt() * (pos - neg) / len(updates) ** 0.5
    assert bool(((updates.mean(0) - expected).abs() <= 5 * stderr + 1e-12).all())
    assert float((updates - expected).abs().max()) > 0.1


def test_agreeing_signs_keep_everything_and_full_leak_is_the_sum():
    jac = _jacobian(4).abs()
    jac[1] *= 0                                     # a zero gradient too
    jac[2, 5:9] = 0
    balancer = build_balancer(dict(type='GradDrop'), TASKS)
    for signed in (jac, -jac):                      # purity 1, then 0: nothing random
        update, kept = balancer.combine_grads(signed, _losses(TASKS))
        assert torch.equal(update, signed.sum(0)) and kept == dict(a=1.0, b=1.0, c=1.0)
    mixed = _jacobian(5)
    full = build_balancer(dict(type='GradDrop', leak=1.0), TASKS)
    update, kept = full.combine_grads(mixed, _losses(TASKS))
    assert float((update - mixed.sum(0)).abs().max()) < 1e-12
    assert all(abs(v - 1) < 1e-12 for v in kept.values())
    plain, _ = balancer.combine_grads(mixed, _losses(TASKS))
    assert float((plain - mixed.sum(0)).abs().max()) > 0.1


def test_absent_tasks_get_no_weight_and_leak_is_by_task():
    jac = _jacobian(6)[:2]
    balancer = build_balancer(dict(type='GradDrop', leak=dict(c=1.0)), TASKS)
    draw = balancer.uniform(jac.shape[1], jac.dtype)
    update, kept = balancer.combine_grads(jac, _losses(['a', 'c']))
    assert set(kept) == {'a', 'c'} and kept['c'] == 1.0 and kept['a'] < 1.0
    mask = torch.where(_purity(jac) > draw, jac[0] > 0, jac[0] < 0)
    assert float((update - (jac[0] * mask + jac[1])).abs().max()) < 1e-12


def test_pure_draws_resume_and_eval_mode(tmp_path):
    balancer = build_balancer(dict(type='GradDrop', seed=9), TASKS)
    jac = _jacobian(7)
    for _ in range(3):
        balancer.combine_grads(jac, _losses(TASKS))
    first = balancer.aggregate(jac, _losses(TASKS))[0]
    assert torch.equal(balancer.aggregate(jac, _losses(TASKS))[0], first)
    balancer.eval()
    balancer.combine_grads(jac, _losses(TASKS))
    assert int(balancer.step) == 3
    balancer.train()
    torch.save(balancer.state_dict(), tmp_path / 'gd.pth')
    resumed = build_balancer(dict(type='GradDrop', seed=9), TASKS)
    resumed.load_state_dict(torch.load(tmp_path / 'gd.pth', weights_only=True))
    updates = set()
    for _ in range(3):
        ours, theirs = resumed.combine_grads(jac, _losses(TASKS))[0], \
            balancer.combine_grads(jac, _losses(TASKS))[0]
        assert torch.equal(ours, theirs)
        updates.add(tuple(ours.tolist()))
    assert len(updates) == 3                        # a new draw every step


def test_toy_step_moves_the_weights():
    model = ToyMultiTask(dict(type='GradDrop'))
    start = copy.deepcopy(model.state_dict())
    train_steps(model, [make_batch(5), make_batch(6)])
    assert set(model.balancer.last_weights) == {'a', 'b'} and int(model.balancer.step) == 2
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-3


def test_cpu_bf16_autocast_step_runs():
    from mtlunder.compat import CPUAutocastOptimWrapper

    model = ToyMultiTask(dict(type='GradDrop'), dtype=torch.float32)
    start = copy.deepcopy(model.state_dict())
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(make_batch(11, dtype=torch.float32), wrapper)
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all())
               for p in model.parameters())
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()
               if k.startswith(('encoder', 'neck', 'heads'))) > 1e-4
    assert set(model.balancer.last_weights) == {'a', 'b'}
