"""GradVac: agreement with TorchJD's GradVacWeighting, the vaccine reaching its target cosine,
the EMA targets indexed by task (partial labels, resume), a toy step and bf16 autocast (DDP
exactness with partial labels: tests/engine/test_multitask_step_ddp.py)."""
import copy

import pytest
import torch

from mtlunder.balancers import build_balancer
from mtlunder.balancers.base import seeded_generator
from tests.balancers.toy_model import ToyMultiTask, make_batch, train_steps

TASKS = ['a', 'b', 'c', 'd']


def _jacobians(count=12, n=4, seed=0):
    """Random ``[n, 20]`` float64 Jacobians with a conflict and unequal norms."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        jac = torch.randn(n, 20, generator=g, dtype=torch.float64)
        jac[1] -= 0.9 * jac[0]
        jac[-1] *= 5.0
        out.append(jac)
    return out


def _losses(tasks):
    return {t: torch.tensor(1.0) for t in tasks}


def _cos(x, y):
    return float(x @ y / (x.norm() * y.norm()))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='beta must be in'):
        build_balancer(dict(type='GradVac', beta=1.5), TASKS)
    with pytest.raises(ValueError, match='eps must be non-negative'):
        build_balancer(dict(type='GradVac', eps=-1.0), TASKS)
    assert build_balancer(dict(type='GradVac', grad_source='repr'), TASKS).gram_suffices


def test_same_weights_and_targets_as_torchjd_over_a_sequence_of_calls():
    """Every task present: TorchJD's weighting draws its orders from the global generator,
    seeded here with the balancer's ``(seed, step)`` generator; same weights, same EMA
    targets, call after call."""
    from torchjd.aggregation import GradVacWeighting

    balancer = build_balancer(dict(type='GradVac', beta=0.3, seed=3), TASKS)
    theirs = GradVacWeighting(beta=0.3, eps=1e-8)
    corrected = 0
    for jac in _jacobians():
        gram = jac @ jac.T
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seeded_generator(3, int(balancer.step)).initial_seed())
            expected = theirs(gram)
        weights = balancer.combine_gram(gram, _losses(TASKS))
        assert float((weights - expected).abs().max()) < 1e-10
        assert float((balancer.targets - theirs._phi_t).abs().max()) < 1e-10
        corrected += int(float((weights - 1).abs().max()) > 1e-6)
    assert corrected > 6 and float(balancer.targets.abs().max()) > 0.05


def test_a_correction_sets_the_cosine_to_its_target():
    """Two tasks: after the vaccine ``cos(g_i', g_j)`` is exactly ``phi_hat_ij`` when it was
    below it; a pair already above its target is left alone."""
    balancer = build_balancer(dict(type='GradVac', eps=0.0), ['a', 'b'])
    balancer.targets.copy_(torch.tensor([[0.0, 0.3], [-0.9, 0.0]], dtype=torch.float64))
    jac = _jacobians(1, n=2)[0]
    before = _cos(jac[0], jac[1])
    assert -0.9 < before < 0.3
    coeffs, cosines = balancer.vaccinate(jac @ jac.T, ['a', 'b'])
    assert abs(_cos(coeffs[0] @ jac, jac[1]) - 0.3) < 1e-12
    assert torch.equal(coeffs[1], torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert abs(float(cosines[0, 1]) - before) < 1e-12 and abs(float(cosines[1, 0]) - before) < 1e-12
    # the update moves the targets toward the cosines met: (1 - beta) phi_hat + beta phi
    balancer.combine_gram(jac @ jac.T, _losses(['a', 'b']))
    expected = torch.tensor([[0.0, 0.5 * 0.3 + 0.5 * before], [0.5 * -0.9 + 0.5 * before, 0.0]],
                            dtype=torch.float64)
    assert float((balancer.targets - expected).abs().max()) < 1e-12


def test_partial_batch_updates_only_its_pairs_and_absent_tasks_get_no_weight():
    balancer = build_balancer(dict(type='GradVac'), TASKS)
    for jac in _jacobians(3):
        balancer.combine_gram(jac @ jac.T, _losses(TASKS))
    before = balancer.targets.clone()
    jac = _jacobians(1, seed=7)[0][[0, 2]]
    weights = balancer.combine_gram(jac @ jac.T, _losses(['a', 'c']))
    assert set(balancer.last_weights) == {'a', 'c'} and weights.shape == (2, )
    changed = (balancer.targets != before).nonzero().tolist()
    assert sorted(changed) == [[0, 2], [2, 0]]


def test_weights_are_pure_and_eval_mode_changes_nothing():
    balancer = build_balancer(dict(type='GradVac'), TASKS)
    grams = [j @ j.T for j in _jacobians(3)]
    balancer.combine_gram(grams[0], _losses(TASKS))
    state = copy.deepcopy(balancer.state_dict())
    first = balancer.gram_weights(grams[1], _losses(TASKS))
    assert torch.equal(balancer.gram_weights(grams[1], _losses(TASKS)), first)
    balancer.eval()
    balancer.combine_gram(grams[1], _losses(TASKS))
    assert all(torch.equal(v, state[k]) for k, v in balancer.state_dict().items())
    balancer.train()
    balancer.combine_gram(grams[1], _losses(TASKS))
    assert not torch.equal(balancer.targets, state['targets'])


def test_state_dict_round_trip_resumes_exactly(tmp_path):
    balancer = build_balancer(dict(type='GradVac', seed=5), TASKS)
    grams = [j @ j.T for j in _jacobians(5)]
    for gram in grams[:3]:
        balancer.combine_gram(gram, _losses(TASKS))
    torch.save(balancer.state_dict(), tmp_path / 'gv.pth')
    resumed = build_balancer(dict(type='GradVac', seed=5), TASKS)
    resumed.load_state_dict(torch.load(tmp_path / 'gv.pth', weights_only=True))
    for gram in grams[3:]:
        assert torch.equal(resumed.combine_gram(gram, _losses(TASKS)),
                           balancer.combine_gram(gram, _losses(TASKS)))
    assert torch.equal(resumed.targets, balancer.targets)


@pytest.mark.parametrize('eps', [1e-8, 0.0])
def test_zero_gradient_gives_finite_weights(eps):
    balancer = build_balancer(dict(type='GradVac', eps=eps), TASKS)
    for jac in _jacobians(3):
        balancer.combine_gram(jac @ jac.T, _losses(TASKS))
    jac = _jacobians(1, seed=3)[0]
    jac[1] = 0
    weights = balancer.combine_gram(jac @ jac.T, _losses(TASKS))
    assert bool(torch.isfinite(weights).all()) and bool(torch.isfinite(balancer.targets).all())
    assert float(weights[1]) == 1.0 and float(balancer.targets.abs().max()) > 0


@pytest.mark.parametrize('grad_source', ['params', 'repr'])
def test_toy_step_moves_the_weights(grad_source):
    model = ToyMultiTask(dict(type='GradVac', grad_source=grad_source))
    start = copy.deepcopy(model.state_dict())
    train_steps(model, [make_batch(5), make_batch(6)])
    assert set(model.balancer.last_weights) == {'a', 'b'}
    assert float(model.balancer.targets.abs().max()) > 0
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-3


def test_cpu_bf16_autocast_step_runs():
    from mtlunder.compat import CPUAutocastOptimWrapper

    model = ToyMultiTask(dict(type='GradVac'), dtype=torch.float32)
    start = copy.deepcopy(model.state_dict())
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(make_batch(11, dtype=torch.float32), wrapper)
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all())
               for p in model.parameters())
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()
               if k.startswith(('encoder', 'neck', 'heads'))) > 1e-4
