"""TorchJD's Jacobian aggregators and weightings through
:class:`~mtlunder.balancers.TorchJDAggregator`: defining properties (ConFIG's equal cosines,
the formulas of TrimmedMean / Mean / Sum / Constant), seeded randomness, agreement of
TorchJD's NashMTL with mtlunder's, the state of the stateful methods across calls and a
resume, a toy step per alias and a bf16 autocast step (DDP exactness with partial labels:
tests/engine/test_multitask_step_ddp.py)."""
import copy
import warnings

import numpy as np
import pytest
import torch

from mtlunder.balancers import TORCHJD_AGGREGATORS, build_balancer
from mtlunder.balancers.base import gram_matrix
from mtlunder.registry import BALANCERS
from tests.balancers.toy_model import ToyMultiTask, make_batch, train_steps

TASKS = ['a', 'b', 'c', 'd']
#: arguments the aliases need on the toy's two tasks
TOY_ARGS = {'Constant': dict(weights=[1.0, 0.5])}

# TorchJD's NashMTL builds a cvxpy problem that is not DPP and warns at every solve
pytestmark = pytest.mark.filterwarnings('ignore:You are solving a parameterized problem')


def _jacobians(count=9, seed=0):
    """``[n, 20]`` float64 gradients, ``n = 2..4``, conflicting, with unequal norms."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for k in range(count):
        n = 2 + k % 3
        jac = torch.randn(n, 20, generator=g, dtype=torch.float64)
        jac[1] -= 0.9 * jac[0]
        jac[-1] *= 5.0
        out.append(jac)
    return out


def _losses(n):
    return {t: torch.tensor(1.0) for t in TASKS[:n]}


def _weights(balancer):
    return torch.tensor(list(balancer.last_weights.values()), dtype=torch.float64)


def test_every_alias_is_registered_and_unsupported_names_say_why():
    for alias in TORCHJD_AGGREGATORS:
        assert BALANCERS.get(alias) is TORCHJD_AGGREGATORS[alias]
        assert build_balancer(dict(type=alias, **TOY_ARGS.get(alias, {})), ['x', 'y']).grad_based
    with pytest.raises(ValueError, match='Krum.*TorchJDWeighting'):
        build_balancer(dict(type='TorchJDAggregator', aggregator='Krum'), TASKS)
    with pytest.raises(TypeError, match='bad arguments .*Constant'):
        build_balancer(dict(type='Constant'), TASKS)                 # needs weights
    with pytest.raises(ValueError, match='weights has 2 entries for 4 tasks'):
        build_balancer(dict(type='Constant', weights=[1.0, 2.0]), TASKS)
    with pytest.raises(ValueError, match="grad_source in \\('params',\\)"):
        build_balancer(dict(type='ConFIG', grad_source='repr'), TASKS)
    with pytest.raises(ValueError, match='CRMOGM smooths a Gramian weighting'):
        build_balancer(dict(type='CRMOGM', weighting='Mean'), TASKS)
    from mtlunder.balancers.torchjd_adapter import NOT_ADAPTED
    with pytest.raises(ValueError, match='MoDo.*TorchJDAggregator'):
        build_balancer(dict(type='TorchJDWeighting', weighting='MoDo'), TASKS)
    assert all('TorchJDAggregator' in NOT_ADAPTED[name] for name in
               ('ConFIG', 'GradDrop', 'TrimmedMean', 'NashMTL', 'ExcessMTL', 'Random'))


def test_config_update_has_equal_cosine_with_every_task_gradient():
    for jac in _jacobians():
        n = jac.shape[0]
        update, w = build_balancer(dict(type='ConFIG'), TASKS[:n]).combine_grads(jac, _losses(n))
        cos = (jac @ update) / (jac.norm(dim=1) * update.norm())
        assert float(cos.min()) > 0 and float(cos.max() - cos.min()) < 1e-10, cos
        # the length: sum of the projections of the task gradients on the direction
        assert float(update.norm()) == pytest.approx(float((jac @ update).sum() / update.norm()))
        # the reported least-squares weights reproduce it (ConFIG is in the rows' span)
        coeffs = torch.tensor(list(w.values()), dtype=torch.float64)
        assert torch.allclose(coeffs @ jac, update, atol=1e-10, rtol=0)


def test_fixed_formulas_and_the_presence_mask():
    for jac in _jacobians():
        n = jac.shape[0]
        losses = _losses(n)
        expect = {'Mean': jac.mean(0), 'Sum': jac.sum(0),
                  'TrimmedMean': jac.sort(0).values[(n - 1) // 2: n - (n - 1) // 2].mean(0)}
        for name, value in expect.items():
            kwargs = dict(trim_number=(n - 1) // 2) if name == 'TrimmedMean' else {}
            update, _ = build_balancer(dict(type=name, **kwargs), TASKS[:n]).combine_grads(
                jac, losses)
            assert torch.allclose(update, value, atol=1e-12, rtol=0), name
    jac = _jacobians()[2]                                         # 4 tasks, c absent
    present = {t: torch.tensor(1.0) for t in ('a', 'b', 'd')}
    balancer = build_balancer(dict(type='Constant', weights=[1.0, -2.0, 3.0, 0.5]), TASKS)
    update, w = balancer.combine_grads(jac[[0, 1, 3]], present)
    assert w == {'a': 1.0, 'b': -2.0, 'd': 0.5}
    assert torch.allclose(update, jac[0] - 2 * jac[1] + 0.5 * jac[3], atol=1e-12, rtol=0)


@pytest.mark.parametrize('name', ['Random', 'TorchJDGradDrop'])
def test_randomised_methods_are_seeded_pure_and_leave_the_global_generator_alone(name):
    jac = _jacobians()[2]
    balancer = build_balancer(dict(type=name, seed=3), TASKS)
    state = torch.get_rng_state()
    first = balancer.aggregate(jac, _losses(4))[0]
    assert torch.equal(balancer.aggregate(jac, _losses(4))[0], first)   # no side effects
    assert torch.equal(torch.get_rng_state(), state)
    draws = {tuple(balancer.combine_grads(jac, _losses(4))[0][:5].tolist()) for _ in range(6)}
    assert int(balancer.step) == 6 and len(draws) > 1                   # a new draw each step
    resumed = build_balancer(dict(type=name, seed=3), TASKS)
    resumed.load_state_dict(balancer.state_dict())
    assert torch.equal(resumed.aggregate(jac, _losses(4))[0],
                       balancer.aggregate(jac, _losses(4))[0])
    other = build_balancer(dict(type=name, seed=4), TASKS)
    assert not torch.equal(other.aggregate(jac, _losses(4))[0], first)
    if name == 'Random':
        w = balancer.aggregate(jac, _losses(4))[1]
        assert bool((w > 0).all()) and float(w.sum()) == pytest.approx(1.0)


def test_torchjd_nash_mtl_agrees_with_mtlunder_nash_mtl():
    """Both solve the bargaining condition ``alpha_i (G G^T alpha)_i = 1`` on the raw Gramian
    (TorchJD's default ``max_norm = 1`` clips the update: 0 here). Where TorchJD's sequential
    convex solve converges the weights agree within 1e-5 (its stopping residual is 1e-3 of
    the normalised problem, so not exactly); on some Gramians it stops far from the solution
    (an ECOS failure keeps the previous iterate), while mtlunder's Newton solve is exact."""
    agree = 0
    for jac in _jacobians():
        n = jac.shape[0]
        gram = jac @ jac.T
        theirs = build_balancer(dict(type='TorchJDNashMTL', max_norm=0.0), TASKS[:n])
        ours = build_balancer(dict(type='NashMTL'), TASKS[:n])
        theirs.combine_grads(jac, _losses(n))
        ours.combine_grads(jac, _losses(n))
        w_jd, w_own = _weights(theirs), _weights(ours)
        assert float((w_own * (gram @ w_own) - 1).abs().max()) < 1e-8
        if float((w_jd * (gram @ w_jd) - 1).abs().max()) < 1e-3:
            assert float((w_jd - w_own).abs().max()) < 1e-5
            agree += 1
    assert agree >= len(_jacobians()) - 1


def _reference(name):
    """A persistent TorchJD object (state kept inside it), and whether it takes the Gramian."""
    from torchjd import aggregation as A

    return {'TorchJDNashMTL': (A.NashMTL(n_tasks=4).weighting, False),
            'ExcessMTL': (A.ExcessMTLWeighting(n_warmup_steps=2), False),
            'MoDo': (A.MoDoWeighting(gamma=0.01), True),
            'SDMGrad': (A.SDMGradWeighting(), True),
            'CRMOGM': (A.CRMOGMWeighting(A.MGDAWeighting()), True),
            'PCD': (A.PCDWeighting(tau=0.3), True)}[name]


STATEFUL = {'TorchJDNashMTL': {}, 'ExcessMTL': dict(n_warmup_steps=2),
            'MoDo': dict(gamma=0.01), 'SDMGrad': {}, 'CRMOGM': {}, 'PCD': dict(tau=0.3)}


@pytest.mark.parametrize('name', sorted(STATEFUL))
def test_stateful_methods_keep_torchjd_state_across_calls_and_a_resume(name):
    g = torch.Generator().manual_seed(1)
    jacs = [torch.randn(4, 30, generator=g, dtype=torch.float64) for _ in range(6)]
    reference, gramian = _reference(name)
    balancer = build_balancer(dict(type=name, **STATEFUL[name]), TASKS)
    changed = False
    for k, jac in enumerate(jacs):
        if k == 3:                                     # resume into a fresh balancer
            resumed = build_balancer(dict(type=name, **STATEFUL[name]), TASKS)
            resumed.load_state_dict(copy.deepcopy(balancer.state_dict()))
            balancer = resumed
        pure = balancer.aggregate(jac, _losses(4))[1]
        assert torch.equal(balancer.aggregate(jac, _losses(4))[1], pure)   # no side effects
        balancer.combine_grads(jac, _losses(4))
        expected = reference(gram_matrix(jac) if gramian else jac).double()
        assert torch.allclose(_weights(balancer), expected, atol=1e-12, rtol=0), k
        changed |= k > 0 and not torch.allclose(expected, first, atol=1e-6)
        first = expected if k == 0 else first
    assert changed                                       # the state mattered
    with pytest.raises(ValueError, match=r"lacks \['c'\]"):
        balancer.combine_grads(jacs[0][[0, 1, 3]], {t: torch.tensor(1.0) for t in 'abd'})


@pytest.mark.parametrize('alias', sorted(TORCHJD_AGGREGATORS))
def test_toy_step_with_every_alias_moves(alias):
    model = ToyMultiTask(dict(type=alias, **TOY_ARGS.get(alias, {})))
    start = copy.deepcopy(model.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        train_steps(model, [make_batch(5), make_batch(6)])
    assert set(model.balancer.last_weights) == {'a', 'b'}
    assert all(map(torch.isfinite, map(torch.tensor, model.balancer.last_weights.values())))
    moved = max(float((p - start[k]).abs().max()) for k, p in model.named_parameters())
    assert moved > 1e-4 and int(model.balancer.step) == 2


def test_cpu_bf16_autocast_step_runs():
    from mtlunder.compat import CPUAutocastOptimWrapper

    model = ToyMultiTask(dict(type='ConFIG'), dtype=torch.float32)
    start = copy.deepcopy(model.state_dict())
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(make_batch(11, dtype=torch.float32), wrapper)
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all())
               for p in model.parameters())
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-4
    assert set(model.balancer.last_weights) == {'a', 'b'}


def test_pcd_solves_its_constrained_problem():
    """First call (the debiased EMA of ``||g||^2`` is ``||g||^2``, eps 0, so ``g~ = g / ||g||``):
    the update is ``d~ = argmin ||d - g~_1||^2 / 2`` s.t. ``g~_j . d >= tau`` (j >= 2), rescaled
    to ``||g_1||``; ``d~`` is computed here from the dual QP with scipy (L-BFGS-B)."""
    from scipy.optimize import minimize

    g = torch.Generator().manual_seed(3)
    jac = torch.randn(3, 40, generator=g, dtype=torch.float64)
    jac[1] -= 2 * (jac[1] @ jac[0]) / (jac[0] @ jac[0]) * jac[0]     # conflicts with g_1
    tau = 0.3
    update, _ = build_balancer(dict(type='PCD', tau=tau, eps=0.0), TASKS[:3]).aggregate(
        jac, _losses(3))
    unit = (jac / jac.norm(dim=1, keepdim=True)).numpy()
    sec = unit[1:]
    gram, lin = sec @ sec.T, sec @ unit[0] - tau
    dual = minimize(lambda mu: (0.5 * mu @ gram @ mu + mu @ lin, gram @ mu + lin),
                    np.zeros(2), jac=True, bounds=[(0, None)] * 2, method='L-BFGS-B',
                    options=dict(ftol=1e-15, gtol=1e-12))
    d_tilde = unit[0] + dual.x @ sec
    assert dual.x.max() > 1e-3                                      # a constraint binds
    assert (sec @ d_tilde >= tau - 1e-8).all()
    expected = d_tilde / np.linalg.norm(d_tilde) * float(jac[0].norm())
    assert np.abs(update.numpy() - expected).max() < 1e-6
    agreeing = jac[0:1].repeat(3, 1) * torch.tensor([[1.0], [0.5], [2.0]], dtype=torch.float64)
    same, _ = build_balancer(dict(type='PCD', tau=tau), TASKS[:3]).aggregate(agreeing,
                                                                             _losses(3))
    assert torch.allclose(same, agreeing[0], atol=1e-10)
