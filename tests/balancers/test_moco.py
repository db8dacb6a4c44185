"""MoCo: lambda on the simplex, the tracking EMA, the MGDA fixed point on a constant
Jacobian, partially labelled batches, resume, a toy step and bf16 autocast."""
import copy

import pytest
import torch

from mtlunder.balancers import build_balancer, min_norm_weights
from mtlunder.balancers.moco import project_simplex
from tests.balancers.toy_model import ToyMultiTask, make_batch, train_steps

TASKS = ['a', 'b', 'c']


def _jacobian(seed=0, n=3, size=20):
    """``[n, size]`` float64 gradients with a conflict and unequal norms."""
    jac = torch.randn(n, size, generator=torch.Generator().manual_seed(seed),
                      dtype=torch.float64)
    jac[1] -= 0.9 * jac[0]
    jac[-1] *= 3.0
    return jac


def _losses(tasks, values=None):
    return {t: torch.tensor(1.0 if values is None else values[i], dtype=torch.float64)
            for i, t in enumerate(tasks)}


def test_bad_arguments_are_refused():
    for kwargs, match in [(dict(beta=0.0), 'beta must be in'), (dict(gamma=0.0), 'gamma must'),
                          (dict(rho=-1.0), 'non-negative')]:
        with pytest.raises(ValueError, match=match):
            build_balancer(dict(type='MoCo', **kwargs), TASKS)
    with pytest.raises(ValueError, match=r"grad_source in \('params',\)"):
        build_balancer(dict(type='MoCo', grad_source='repr'), TASKS)


def test_project_simplex_satisfies_its_optimality_conditions():
    """``w = max(v - theta, 0)`` with ``sum w = 1``: the KKT conditions of the projection."""
    g = torch.Generator().manual_seed(0)
    for n in (1, 2, 3, 5):
        for _ in range(20):
            v = 3 * torch.randn(n, generator=g, dtype=torch.float64)
            w = project_simplex(v)
            assert bool((w >= 0).all()) and abs(float(w.sum()) - 1) < 1e-12
            theta = float((v - w)[w > 0].mean())
            assert float(((v - w)[w > 0] - theta).abs().max()) < 1e-12
            assert bool((v[w == 0] <= theta + 1e-12).all())


def test_tracking_ema_and_lambda_step_follow_the_rule():
    """Two steps by hand: ``y <- y - beta_t (y - g)``, ``beta_t = beta / t^0.5``;
    ``lambda <- Proj(lambda - gamma_t (Y Y^T + rho I) lambda)``; update ``Y^T lambda``."""
    balancer = build_balancer(dict(type='MoCo', rho=0.1, gamma=0.05), TASKS)
    y, lam = torch.zeros(3, 20, dtype=torch.float64), torch.full((3, ), 1 / 3,
                                                                dtype=torch.float64)
    for t, seed in ((1, 0), (2, 1)):
        jac = _jacobian(seed)
        y = y - 0.5 / t ** 0.5 * (y - jac)
        lam = project_simplex(lam - 0.05 / t ** 0.5 * ((y @ y.T) @ lam + 0.1 * lam))
        update, weights = balancer.combine_grads(jac, _losses(TASKS))
        assert float((balancer.tracked - y).abs().max()) < 1e-12
        assert float((balancer.lambdas - lam).abs().max()) < 1e-12
        assert float((update - y.T @ lam).abs().max()) < 1e-12
        assert list(weights.values()) == pytest.approx(lam.tolist(), abs=1e-12)
    assert float(lam.min()) < 0.3                                  # lambda moved


@pytest.mark.parametrize('normalize', [False, True])
def test_constant_jacobian_converges_to_the_min_norm_direction(normalize):
    """rho = 0, constant step sizes: ``y -> h`` and ``lambda`` -> argmin over the simplex of
    ``||H^T lambda||``, the MGDA weights of ``h`` (``normalize``: ``h_i = L_i g_i / ||g_i||``)."""
    jac = _jacobian(2)
    values = [0.5, 2.0, 1.0]
    target = jac * (torch.tensor(values, dtype=torch.float64) / (jac.norm(dim=1) + 1e-8))[:, None] \
        if normalize else jac
    gram = target @ target.T
    gamma = 1.0 / float(torch.linalg.eigvalsh(gram).max())
    balancer = build_balancer(dict(type='MoCo', beta_sigma=0.0, gamma=gamma, gamma_sigma=0.0,
                                   normalize=normalize), TASKS)
    for _ in range(3000):
        update, _ = balancer.combine_grads(jac, _losses(TASKS, values))
    mgda = min_norm_weights(gram)
    assert float((balancer.lambdas - mgda).abs().max()) < 1e-6
    assert float((update - mgda @ target).abs().max()) < 1e-6
    assert float((mgda - 1 / 3).abs().max()) > 0.05               # not the start


def test_partial_batch_keeps_absent_state_and_lambda_on_the_simplex():
    balancer = build_balancer(dict(type='MoCo'), TASKS)
    for seed in range(3):
        balancer.combine_grads(_jacobian(seed), _losses(TASKS))
    tracked, lambdas = balancer.tracked.clone(), balancer.lambdas.clone()
    jac = _jacobian(5)[[0, 2]]
    update, weights = balancer.combine_grads(jac, _losses(['a', 'c']))
    assert set(weights) == {'a', 'c'} and abs(sum(weights.values()) - 1) < 1e-12
    assert torch.equal(balancer.tracked[1], tracked[1])
    assert float(balancer.lambdas[1]) == float(lambdas[1])
    assert abs(float(balancer.lambdas.sum()) - 1) < 1e-12 and bool((balancer.lambdas >= 0).all())
    share = float(lambdas[[0, 2]].sum())
    assert float((balancer.lambdas[[0, 2]] / share
                  - torch.tensor(list(weights.values()), dtype=torch.float64)).abs().max()) < 1e-12
    assert not torch.equal(balancer.tracked[[0, 2]], tracked[[0, 2]])
    assert float((update - balancer.tracked[[0, 2]].T
                  @ torch.tensor(list(weights.values()), dtype=torch.float64)).abs().max()) < 1e-12


def test_pure_eval_mode_and_resume_into_a_fresh_balancer(tmp_path):
    balancer = build_balancer(dict(type='MoCo', rho=0.01), TASKS)
    for seed in range(3):
        balancer.combine_grads(_jacobian(seed), _losses(TASKS))
    state = copy.deepcopy(balancer.state_dict())
    balancer.eval()
    balancer.combine_grads(_jacobian(3), _losses(TASKS))
    assert all(torch.equal(v, state[k]) for k, v in balancer.state_dict().items())
    balancer.train()
    torch.save(balancer.state_dict(), tmp_path / 'moco.pth')
    resumed = build_balancer(dict(type='MoCo', rho=0.01), TASKS)     # tracked not created yet
    resumed.load_state_dict(torch.load(tmp_path / 'moco.pth', weights_only=True))
    for seed in (4, 5):
        ours, theirs = resumed.combine_grads(_jacobian(seed), _losses(TASKS)), \
            balancer.combine_grads(_jacobian(seed), _losses(TASKS))
        assert torch.equal(ours[0], theirs[0]) and ours[1] == theirs[1]
    assert all(torch.equal(v, balancer.state_dict()[k])
               for k, v in resumed.state_dict().items())


@pytest.mark.parametrize('normalize', [False, True])
def test_zero_gradient_and_zero_loss_give_no_nan(normalize):
    balancer = build_balancer(dict(type='MoCo', normalize=normalize), TASKS)
    jac = _jacobian(1)
    jac[0] = 0
    for _ in range(2):
        update, weights = balancer.combine_grads(jac, _losses(TASKS, [0.0, 1.0, 2.0]))
    assert bool(torch.isfinite(update).all()) and bool(torch.isfinite(balancer.tracked).all())
    assert all(torch.isfinite(torch.tensor(v)) for v in weights.values())
    with pytest.raises(ValueError, match='does not match the tracked buffer'):
        balancer.combine_grads(jac[:, :5], _losses(TASKS))


def test_toy_step_moves_the_weights():
    model = ToyMultiTask(dict(type='MoCo'))
    start = copy.deepcopy(model.state_dict())
    train_steps(model, [make_batch(5), make_batch(6)])
    assert set(model.balancer.last_weights) == {'a', 'b'}
    assert model.balancer.tracked.shape == (2, sum(p.numel() for p in model.shared_parameters()))
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()
               if k.startswith(('encoder', 'neck'))) > 1e-3


def test_cpu_bf16_autocast_step_runs():
    from mtlunder.compat import CPUAutocastOptimWrapper

    model = ToyMultiTask(dict(type='MoCo'), dtype=torch.float32)
    start = copy.deepcopy(model.state_dict())
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(make_batch(11, dtype=torch.float32), wrapper)
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all())
               for p in model.parameters())
    assert model.balancer.tracked.dtype == torch.float32
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()
               if k.startswith(('encoder', 'neck'))) > 1e-4
