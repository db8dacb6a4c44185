"""Gradient balancers against their defining math (min-norm KKT, projections, ...)."""
import pytest
import torch

from mtlunder.balancers import (CAGrad, IMTLG, MGDA, AlignedMTL, DBMTL, GradNorm, NashMTL,
                                PCGrad, aligned_weights, imtl_g_weights, min_norm_weights,
                                nash_weights)
from mtlunder.balancers.base import seeded_generator
from mtlunder.balancers.mgda import min_norm_two


def _grads(t, p=7, seed=0):
    return torch.randn(t, p, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _losses(tasks):
    return {t: torch.tensor(1.0 + i, dtype=torch.float64) for i, t in enumerate(tasks)}


@pytest.mark.parametrize('t,seed', [(3, 0), (4, 1), (5, 2), (6, 3), (3, 4)])
def test_mgda_min_norm_kkt(t, seed):
    g = _grads(t, p=4, seed=seed)
    w = min_norm_weights(g @ g.T)
    assert abs(float(w.sum()) - 1) < 1e-10 and bool((w >= -1e-12).all())
    d = w @ g
    norm2 = float(d @ d)
    proj = g @ d                     # KKT: g_i . d >= ||d||^2, equality on the support
    assert bool((proj >= norm2 - 1e-8).all())
    assert bool((proj[w > 1e-6] - norm2).abs().max() < 1e-8)


def test_mgda_two_tasks_closed_form_and_grid():
    for seed in range(6):
        g = _grads(2, seed=seed)
        if seed == 5:                # g1 . g2 > ||g2||^2: the min-norm point is g2 itself
            g[0] = 3 * g[1] + 0.01 * g[0]
        gram = g @ g.T
        w = min_norm_weights(gram)
        grid = torch.linspace(0, 1, 20001, dtype=torch.float64)
        norms = ((grid[:, None] * g[0] + (1 - grid[:, None]) * g[1]) ** 2).sum(1)
        gamma_star = float(grid[norms.argmin()])
        assert abs(float(w[0]) - gamma_star) < 1e-4
        gamma = min(max(float((g[1] - g[0]) @ g[1] / ((g[0] - g[1]) @ (g[0] - g[1]))), 0), 1)
        assert abs(float(w[0]) - gamma) < 1e-12
        assert torch.allclose(min_norm_two(gram), w)


def test_mgda_balancer_update_is_min_norm_combination():
    g = _grads(3, seed=7)
    bal = MGDA(['a', 'b', 'c'])
    update, weights = bal.combine_grads(g, _losses('abc'))
    w = torch.tensor([weights[t] for t in 'abc'], dtype=torch.float64)
    assert torch.allclose(update, w @ g)
    assert torch.allclose(w, min_norm_weights(g @ g.T))


def _pcgrad_reference(g, bal):
    """PCGrad on the vectors with the balancer's random orders."""
    gen = seeded_generator(bal.seed, int(bal.step))
    out = []
    for i in range(len(g)):
        gi = g[i].clone()
        for j in torch.randperm(len(g), generator=gen).tolist():
            if j != i and gi @ g[j] < 0:
                gi = gi - (gi @ g[j]) / (g[j] @ g[j]) * g[j]
        out.append(gi)
    return torch.stack(out)


def test_pcgrad_two_tasks_hand_projection():
    g1 = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    g2 = torch.tensor([-1.0, 1.0, 0.0], dtype=torch.float64)
    bal = PCGrad(['a', 'b'])
    update, _ = bal.combine_grads(torch.stack([g1, g2]), _losses('ab'))
    p1 = g1 - (g1 @ g2) / (g2 @ g2) * g2
    p2 = g2 - (g2 @ g1) / (g1 @ g1) * g1
    assert torch.allclose(update, p1 + p2)
    assert abs(float(p1 @ g2)) < 1e-12 and abs(float(p2 @ g1)) < 1e-12


def test_pcgrad_no_conflict_after_projection_and_reference():
    for seed in range(5):
        g = _grads(2, seed=seed)
        g[1] = -g[0] + 0.5 * g[1]       # make them conflict
        bal = PCGrad(['a', 'b'])
        coeffs = bal.projection_coeffs(g @ g.T)
        proj = coeffs @ g
        assert float(proj[0] @ g[1]) >= -1e-10 and float(proj[1] @ g[0]) >= -1e-10
    g = _grads(4, seed=11)
    bal = PCGrad(list('abcd'), reduction='mean', seed=3)
    ref = _pcgrad_reference(g, bal).mean(0)
    update, _ = bal.combine_grads(g, _losses('abcd'))
    assert torch.allclose(update, ref)
    assert int(bal.step) == 1


def test_pcgrad_keeps_agreeing_gradients():
    g = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=torch.float64)
    update, _ = PCGrad(['a', 'b']).combine_grads(g, _losses('ab'))
    assert torch.allclose(update, g.sum(0))


def test_cagrad_c0_is_mean_and_c_half_is_conflict_averse():
    g = _grads(3, seed=5)
    update, _ = CAGrad(list('abc'), c=0.0).combine_grads(g, _losses('abc'))
    assert torch.allclose(update, g.mean(0))
    c = 0.5
    update, _ = CAGrad(list('abc'), c=c).combine_grads(g, _losses('abc'))
    d = update * (1 + c ** 2)
    g0 = g.mean(0)
    assert abs(float((d - g0).norm()) - c * float(g0.norm())) < 1e-6
    # d maximises min_i g_i . d over the ball ||d - g0|| <= c ||g0||
    rand = torch.randn(20000, g.shape[1], generator=torch.Generator().manual_seed(0),
                       dtype=torch.float64)
    ball = g0 + c * float(g0.norm()) * rand / rand.norm(dim=1, keepdim=True)
    assert float((g @ d).min()) >= float((ball @ g.T).min(1).values.max()) - 1e-4
    assert float((g @ d).min()) >= float((g @ g0).min()) - 1e-10


def test_imtl_g_equal_projections():
    for t in (2, 3, 4):
        g = _grads(t, seed=t)
        alpha = imtl_g_weights(g @ g.T)
        assert abs(float(alpha.sum()) - 1) < 1e-10
        d = alpha @ g
        u = g / g.norm(dim=1, keepdim=True)
        proj = u @ d
        assert float(proj.max() - proj.min()) < 1e-9
        update, _ = IMTLG(list('abcd'[:t])).combine_grads(g, _losses('abcd'[:t]))
        assert torch.allclose(update, d)


def test_aligned_mtl_equalises_singular_values():
    g = _grads(3, seed=9)
    g[2] *= 10
    bal = AlignedMTL(list('abc'))
    update, weights = bal.combine_grads(g, _losses('abc'))
    lam, vec = torch.linalg.eigh(g @ g.T)
    basis = lam.min().sqrt() * vec @ torch.diag(lam.rsqrt()) @ vec.T
    aligned = basis @ g                       # rows of the aligned gradient matrix
    sv = torch.linalg.svdvals(aligned)
    assert float(sv.max() - sv.min()) < 1e-8 and abs(float(sv.min()) - lam.min().sqrt()) < 1e-8
    assert torch.allclose(update, aligned.sum(0))


def _near_singular_gram():
    """Gram matrix of two gradients whose eigenvalue ratio is about 1e-10: above float64's
    cut-off (2 x 2.2e-16), below float32's (2 x 1.2e-7)."""
    g = _grads(2, p=5, seed=3)
    g[1] = g[0] + 1e-5 * g[1] / g[1].norm() * g[0].norm()
    gram = g @ g.T
    lam = torch.linalg.eigvalsh(gram)
    assert 1e-12 < float(lam.min() / lam.max()) < 1e-8
    return gram


def _aligned_reference(gram, keep_all):
    lam, vec = torch.linalg.eigh(gram.double())
    if not keep_all:
        lam, vec = lam[-1:], vec[:, -1:]
    return (lam.min().sqrt() * vec @ torch.diag(lam.rsqrt()) @ vec.T).sum(0)


def test_aligned_mtl_cutoff_follows_the_input_dtype():
    gram = _near_singular_gram()
    # float64: the small eigenvalue is real and kept
    torch.testing.assert_close(aligned_weights(gram), _aligned_reference(gram, True),
                               rtol=1e-6, atol=0)
    # float32: it is below float32 precision and dropped
    torch.testing.assert_close(aligned_weights(gram.float()),
                               _aligned_reference(gram.float(), False), rtol=1e-5, atol=1e-6)


def test_aligned_mtl_balancer_cutoff_is_float32_unless_set():
    gram = _near_singular_gram()
    losses = _losses('ab')
    torch.testing.assert_close(AlignedMTL(list('ab')).gram_weights(gram, losses),
                               _aligned_reference(gram, False), rtol=1e-6, atol=1e-8)
    float64 = AlignedMTL(list('ab'), eps=torch.finfo(torch.float64).eps)
    torch.testing.assert_close(float64.gram_weights(gram, losses),
                               _aligned_reference(gram, True), rtol=1e-6, atol=0)


@pytest.mark.parametrize('t,seed', [(2, 0), (3, 4), (4, 1)])
def test_nash_mtl_solves_the_papers_bargaining_condition(t, seed):
    g = _grads(t, seed=seed) * 5   # ||G G^T||_F far from 1: a normalised solve would fail
    alpha = nash_weights(g @ g.T)
    assert bool((alpha > 0).all())
    # (G G^T alpha)_i = 1 / alpha_i, i.e. alpha_i (g_i . d) = 1 for the update d = G^T alpha
    torch.testing.assert_close(alpha * (g @ (alpha @ g)), torch.ones(t, dtype=torch.float64),
                               rtol=0, atol=1e-4)


@pytest.mark.parametrize('t,seed', [(2, 0), (3, 4), (4, 1)])
@pytest.mark.parametrize('scale', [0.01, 100.0])
def test_nash_mtl_update_does_not_change_when_gradients_are_scaled(t, seed, scale):
    g = _grads(t, seed=seed)
    d = nash_weights(g @ g.T) @ g
    gs = g * scale
    torch.testing.assert_close(nash_weights(gs @ gs.T) @ gs, d, rtol=1e-6, atol=1e-8)


def test_nash_mtl_worked_example():
    g = torch.tensor([[2.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    alpha = nash_weights(g @ g.T)
    torch.testing.assert_close(alpha, torch.tensor([0.5, 0.5], dtype=torch.float64))
    torch.testing.assert_close(alpha @ g, torch.tensor([1.0, 1.0], dtype=torch.float64))


def test_nash_mtl_caches_alpha_between_updates():
    g = _grads(3, seed=4)
    alpha = nash_weights(g @ g.T)
    bal = NashMTL(list('abc'), update_every=2)
    first, _ = bal.combine_grads(g, _losses('abc'))
    assert torch.allclose(first, alpha @ g)
    g2 = g.clone()
    g2[0] *= 3
    second, _ = bal.combine_grads(g2, _losses('abc'))      # step 2: cached alpha
    assert torch.allclose(second, alpha @ g2)
    third, _ = bal.combine_grads(g2, _losses('abc'))       # step 3: recomputed
    assert torch.allclose(third, nash_weights(g2 @ g2.T) @ g2)
    assert not torch.allclose(third, second)


def test_db_mtl_rescales_ema_to_largest_norm():
    g = _grads(2, seed=2)
    g[1] *= 5
    bal = DBMTL(['a', 'b'], beta=0.9)
    update, weights = bal.combine_grads(g, _losses('ab'))
    ema = 0.1 * g
    scales = ema.norm(dim=1).max() / ema.norm(dim=1)
    assert torch.allclose(update, scales @ ema)
    assert torch.allclose(bal.grad_ema, ema)
    update2, _ = bal.combine_grads(g, _losses('ab'))
    ema2 = 0.9 * ema + 0.1 * g
    assert torch.allclose(update2, (ema2.norm(dim=1).max() / ema2.norm(dim=1)) @ ema2)


def test_gradnorm_moves_weight_to_slow_task():
    bal = GradNorm(['a', 'b'], alpha=1.5, lr=0.1)
    gram = torch.eye(2, dtype=torch.float64)
    bal.combine_gram(gram, {'a': torch.tensor(1.0), 'b': torch.tensor(1.0)})
    w0 = bal.weights.clone()
    # task a trains slower (its loss stayed), b halved: a's target norm is larger
    coeffs = bal.combine_gram(gram, {'a': torch.tensor(1.0), 'b': torch.tensor(0.5)})
    assert torch.allclose(coeffs, w0)
    assert float(bal.weights[0]) > float(bal.weights[1])
    assert abs(float(bal.weights.sum()) - 2) < 1e-12
