"""PBI: the geometry of d1 / d2 against a float64 numpy computation, d2 = 0 on the
preference ray, weights = d total / d L, the present entries of the preference, a toy step."""
import copy

import numpy as np
import pytest
import torch

from mtlunder.balancers import build_balancer
from tests.balancers.toy_model import ToyMultiTask, make_batch, train_steps

TASKS = ['a', 'b', 'c']
PREF = [1.0, 2.0, 0.5]
IDEAL = [0.1, -0.2, 0.05]


def _losses(values, tasks=TASKS):
    return {t: torch.tensor(v, dtype=torch.float64, requires_grad=True)
            for t, v in zip(tasks, values)}


def _by_hand(values, pref, ideal, theta):
    r = np.asarray(values, dtype=np.float64) - np.asarray(ideal, dtype=np.float64)
    p = np.asarray(pref, dtype=np.float64)
    d1 = float(r @ p) / float(np.sqrt(p @ p))
    d2 = float(np.linalg.norm(r - d1 * p / np.sqrt(p @ p)))
    return d1, d2, d1 + theta * d2


@pytest.mark.parametrize('values', [[0.7, 2.0, 0.4], [3.0, 0.1, 1.2], [0.05, 0.05, 0.05]])
@pytest.mark.parametrize('theta', [0.0, 5.0])
def test_distances_and_weights_match_a_hand_computation(values, theta):
    balancer = build_balancer(dict(type='PBI', theta=theta, pref=PREF, ideal=IDEAL), TASKS)
    losses = _losses(values)
    idx = balancer.indices(TASKS)
    d1, d2, _ = balancer.distances(balancer._stack(losses), idx)
    h1, h2, h_total = _by_hand(values, PREF, IDEAL, theta)
    assert float(d1) == pytest.approx(h1, abs=1e-12) and float(d2) == pytest.approx(h2, abs=1e-12)
    total, w = balancer.weighted_loss(losses)
    assert float(total) == pytest.approx(h_total, abs=1e-12)
    grad = torch.stack(torch.autograd.grad(total, list(losses.values())))
    assert torch.allclose(grad, w, atol=1e-12, rtol=0)


def test_the_preference_ray_has_no_penalty():
    balancer = build_balancer(dict(type='PBI', theta=5.0, pref=PREF, ideal=IDEAL), TASKS)
    on_ray = [z + 0.8 * p for p, z in zip(PREF, IDEAL)]
    losses = _losses(on_ray)
    d1, d2, _ = balancer.distances(balancer._stack(losses), balancer.indices(TASKS))
    assert float(d2) < 1e-12
    assert float(d1) == pytest.approx(0.8 * float(np.linalg.norm(PREF)), abs=1e-12)
    total, w = balancer.weighted_loss(losses)
    unit = torch.tensor(PREF, dtype=torch.float64) / float(np.linalg.norm(PREF))
    assert torch.allclose(w, unit, atol=1e-9, rtol=0)
    assert bool(torch.isfinite(torch.stack(torch.autograd.grad(total,
                                                               list(losses.values())))).all())
    off = _losses([on_ray[0] + 0.3, on_ray[1], on_ray[2]])
    assert float(balancer.weighted_loss(off)[0]) > float(total) + 0.3 * 5.0 * 0.5


def test_partial_tasks_use_the_present_entries():
    balancer = build_balancer(dict(type='PBI', theta=2.0, pref=PREF, ideal=IDEAL), TASKS)
    total, w = balancer.combine(_losses([0.7, 0.4], ['a', 'c']))
    h = _by_hand([0.7, 0.4], [PREF[0], PREF[2]], [IDEAL[0], IDEAL[2]], 2.0)[2]
    assert float(total) == pytest.approx(h, abs=1e-12)
    assert set(w) == {'a', 'c'}
    with pytest.raises(ValueError, match='pref must be positive'):
        build_balancer(dict(type='PBI', pref=[1.0, 0.0, 1.0]), TASKS)


def test_toy_step_moves():
    model = ToyMultiTask(dict(type='PBI', theta=1.0))
    start = copy.deepcopy(model.state_dict())
    train_steps(model, [make_batch(5)])
    assert set(model.balancer.last_weights) == {'a', 'b'}
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-3
