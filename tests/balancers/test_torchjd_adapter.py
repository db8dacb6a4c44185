"""TorchJD's Gramian weightings through :class:`~mtlunder.balancers.TorchJDWeighting`: the
defining properties of UPGrad, DualProj and FairGrad, agreement with mtlunder's own MGDA /
CAGrad / IMTL-G / Aligned-MTL / PCGrad, the presence mask and a bf16 autocast step (DDP
exactness with partial labels: tests/engine/test_multitask_step_ddp.py)."""
import copy

import pytest
import torch

from mtlunder.balancers import TORCHJD_BALANCERS, build_balancer
from mtlunder.registry import BALANCERS
from tests.balancers.toy_model import ToyMultiTask, make_batch, train_steps

TASKS = ['a', 'b', 'c', 'd']


def _gramians(count=12, seed=0):
    """Gramians of ``n = 2..4`` random conflicting gradients ``[n, 20]`` (float64), with
    unequal norms."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for k in range(count):
        n = 2 + k % 3
        jac = torch.randn(n, 20, generator=g, dtype=torch.float64)
        jac[1] -= 0.9 * jac[0]                              # a conflict
        jac[-1] *= 5.0
        out.append(jac @ jac.T)
    return out


def _losses(n):
    return {t: torch.tensor(1.0) for t in TASKS[:n]}


def test_every_alias_is_registered_and_unsupported_names_say_why():
    for alias in TORCHJD_BALANCERS:
        assert BALANCERS.get(alias) is TORCHJD_BALANCERS[alias]
        assert build_balancer(dict(type=alias), TASKS).gram_suffices
    with pytest.raises(ValueError, match='GradVac.*state'):
        build_balancer(dict(type='TorchJDWeighting', weighting='GradVac'), TASKS)
    with pytest.raises(ValueError, match="ConFIG.*full Jacobian.*'repr'"):
        build_balancer(dict(type='TorchJDWeighting', weighting='ConFIG'), TASKS)
    with pytest.raises(TypeError, match='bad arguments .*CAGradWeighting'):
        build_balancer(dict(type='TorchJDWeighting', weighting='CAGrad'), TASKS)  # needs c
    with pytest.raises(ValueError, match='pref_vector has 2 entries for 4 tasks'):
        build_balancer(dict(type='UPGrad', pref_vector=[1.0, 2.0]), TASKS)


@pytest.mark.parametrize('name', ['UPGrad', 'DualProj'])
def test_update_does_not_conflict_with_any_task(name):
    """``g_i . d >= 0`` for every task. TorchJD projects onto the dual cone of
    ``G / tr(G) + reg_eps I``, so with its default ``reg_eps = 1e-4`` the bound is
    ``g_i . d >= -reg_eps tr(G) w_i``; with ``reg_eps = 0`` it is ``g_i . d >= 0``."""
    for gram in _gramians():
        n = gram.shape[0]
        w = build_balancer(dict(type=name), TASKS[:n]).gram_weights(gram, _losses(n))
        dots = gram @ w
        assert bool((dots >= -1e-4 * gram.trace() * w - 1e-9 * gram.trace()).all()), (name, dots)
        exact = build_balancer(dict(type=name, projector=dict(reg_eps=0.0)), TASKS[:n])
        dots = gram @ exact.gram_weights(gram, _losses(n))
        assert bool((dots >= -1e-9 * gram.trace()).all()), (name, dots)
    # at least one of these Gramians has the mean gradient conflicting with a task
    assert any(float((g.sum(0)).min()) < 0 for g in _gramians())


def test_dualproj_is_the_minimal_change_of_the_mean():
    """KKT of ``min_w (w - u)^T K (w - u)`` over the dual cone ``K w >= 0`` with
    ``u = 1/n`` and ``K = G / tr(G) + reg_eps I``: TorchJD solves the equivalent
    ``min w^T K w, w >= u``, whose conditions are ``w >= u``, ``K w >= 0`` and
    ``(w - u)_i (K w)_i = 0``."""
    reg = 1e-4
    moved = 0
    for gram in _gramians():
        n = gram.shape[0]
        w = build_balancer(dict(type='DualProj'), TASKS[:n]).gram_weights(gram, _losses(n))
        k = gram / gram.trace() + reg * torch.eye(n, dtype=gram.dtype)
        u = torch.full((n,), 1.0 / n, dtype=gram.dtype)
        kw = k @ w
        assert bool((w >= u - 1e-9).all()) and bool((kw >= -1e-9).all())
        assert float(((w - u) * kw).abs().max()) < 1e-9
        moved += int(float((w - u).abs().max()) > 1e-6)
    assert moved > 0                                   # some means were outside the cone


@pytest.mark.parametrize('alpha', [0.5, 1.0, 2.0])
def test_fairgrad_solves_its_fairness_condition(alpha):
    """FairGrad's alpha-fair weights: ``w > 0`` with ``G G^T w = w^(-1/alpha)``."""
    for gram in _gramians():
        n = gram.shape[0]
        w = build_balancer(dict(type='FairGrad', alpha=alpha), TASKS[:n]).gram_weights(
            gram, _losses(n))
        target = w.pow(-1.0 / alpha)
        assert bool((w > 0).all())
        assert float((gram @ w - target).abs().max() / target.abs().max()) < 1e-8


# (TorchJD config, mtlunder config, scale on mtlunder's weights, tolerance on the weights)
AGREEMENT = {
    # both give the v of G v = (|g_i|)_i normalised to sum 1 (TorchJD through pinv(G))
    'IMTL-G': (dict(type='TorchJDIMTLG'), dict(type='IMTLG'), None, 1e-5),
    # same seeded random orders, same projections
    'PCGrad': (dict(type='TorchJDPCGrad'), dict(type='PCGrad'), None, 1e-5),
    # TorchJD weights B (1/n) (the mean preference), mtlunder B 1; eps: same cut-off
    'Aligned-MTL': (dict(type='TorchJDAlignedMTL'),
                    dict(type='AlignedMTL', eps=2.220446049250313e-16), 'n', 1e-5),
    # TorchJD solves with cvxpy/Clarabel, mtlunder with scipy SLSQP; mtlunder rescales by
    # 1/(1+c^2) by default (rescale=False here); solver tolerances: 1e-3
    'CAGrad': (dict(type='TorchJDCAGrad', c=0.5, norm_eps=0.0),
               dict(type='CAGrad', c=0.5, rescale=False), None, 1e-3),
}


@pytest.mark.parametrize('method', sorted(AGREEMENT))
def test_same_gramian_same_weights_as_mtlunder(method):
    theirs, ours, scale, tol = AGREEMENT[method]
    worst = 0.0
    for gram in _gramians():
        n = gram.shape[0]
        w_jd = build_balancer(theirs, TASKS[:n]).gram_weights(gram, _losses(n))
        w_own = build_balancer(ours, TASKS[:n]).gram_weights(gram, _losses(n))
        if scale == 'n':
            w_own = w_own / n
        worst = max(worst, float((w_jd - w_own).abs().max()))
    assert worst < tol, f'{method}: weights differ by {worst}'


def test_mgda_agrees_for_two_tasks_and_is_never_better_for_more():
    """TorchJD's MGDA is plain Frank-Wolfe stopped when the step is below ``epsilon``
    (sub-linear when the optimum is on a face); mtlunder's ends in an exact active-set KKT
    solve. Two tasks (a segment, one exact line search): same weights; more: TorchJD's
    min-norm value is never lower, and within 1e-3 of it (``epsilon=1e-12``, 20000 iterations)."""
    for gram in _gramians():
        n = gram.shape[0]
        w_jd = build_balancer(dict(type='TorchJDMGDA', epsilon=1e-12, max_iters=20_000),
                              TASKS[:n]).gram_weights(gram, _losses(n))
        w_own = build_balancer(dict(type='MGDA'), TASKS[:n]).gram_weights(gram, _losses(n))
        v_jd, v_own = float(w_jd @ gram @ w_jd), float(w_own @ gram @ w_own)
        assert v_jd >= v_own * (1 - 1e-12)
        assert v_jd <= v_own * (1 + 1e-3)
        if n == 2:
            assert float((w_jd - w_own).abs().max()) < 1e-5


def test_presence_mask_and_preference_vector_use_the_present_tasks_only():
    from torchjd.aggregation import UPGradWeighting

    gram = _gramians()[2]                                  # 4 tasks
    present = [0, 2, 3]
    sub = gram[present][:, present]
    losses = {TASKS[i]: torch.tensor(1.0) for i in present}
    pref = [1.0, 2.0, 3.0, 4.0]
    balancer = build_balancer(dict(type='UPGrad', pref_vector=pref), TASKS)
    coeffs = balancer.combine_gram(sub, losses)
    expected = UPGradWeighting(pref_vector=torch.tensor(pref, dtype=torch.float64)[present])(sub)
    assert torch.allclose(coeffs, expected, atol=1e-12, rtol=0)
    assert set(balancer.last_weights) == {'a', 'c', 'd'}
    plain = build_balancer(dict(type='UPGrad'), TASKS).gram_weights(sub, losses)
    assert float((plain - coeffs).abs().max()) > 1e-3      # the preference mattered


def test_random_weighting_is_pure_seeded_and_leaves_the_global_generator_alone():
    gram = _gramians()[2]
    balancer = build_balancer(dict(type='TorchJDPCGrad', seed=3), TASKS)
    state = torch.get_rng_state()
    first = balancer.gram_weights(gram, _losses(4))
    assert torch.equal(balancer.gram_weights(gram, _losses(4)), first)   # no side effects
    assert torch.equal(torch.get_rng_state(), state)
    draws = set()
    for _ in range(8):
        draws.add(tuple(balancer.combine_gram(gram, _losses(4)).tolist()))
    assert int(balancer.step) == 8 and len(draws) > 1      # new orders each step
    resumed = build_balancer(dict(type='TorchJDPCGrad', seed=3), TASKS)
    resumed.load_state_dict(balancer.state_dict())
    assert torch.equal(resumed.gram_weights(gram, _losses(4)),
                       balancer.gram_weights(gram, _losses(4)))


@pytest.mark.parametrize('grad_source', ['params', 'repr'])
def test_toy_step_with_upgrad_moves_and_does_not_conflict(grad_source):
    model = ToyMultiTask(dict(type='UPGrad', grad_source=grad_source))
    start = copy.deepcopy(model.state_dict())
    train_steps(model, [make_batch(5)])
    assert set(model.balancer.last_weights) == {'a', 'b'}
    assert min(model.balancer.last_weights.values()) > 0
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-3


def test_cpu_bf16_autocast_step_runs():
    from mtlunder.compat import CPUAutocastOptimWrapper

    model = ToyMultiTask(dict(type='UPGrad'), dtype=torch.float32)
    start = copy.deepcopy(model.state_dict())
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(make_batch(11, dtype=torch.float32), wrapper)
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all())
               for p in model.parameters())
    assert max(float((v - start[k]).abs().max()) for k, v in model.state_dict().items()) > 1e-4
    assert set(model.balancer.last_weights) == {'a', 'b'}
