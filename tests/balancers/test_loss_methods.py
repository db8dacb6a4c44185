"""Loss-based balancers against their formulas."""
import json
import math

import pytest
import torch

from mtlunder.balancers import (AMTL, DTP, DWA, EW, FAMO, GLS, IMTLL, RLW, UW, GeMTL,
                                build_balancer, generalized_mean)


def _losses(values, grad=True):
    return {t: torch.tensor(float(v), dtype=torch.float64, requires_grad=grad)
            for t, v in zip('abcd', values)}


def _grad_weights(total, losses):
    grads = torch.autograd.grad(total, list(losses.values()))
    return torch.stack(grads)


def test_ew_fixed_weights_and_unknown_task():
    losses = _losses([1.0, 2.0, 3.0])
    total, w = EW(list('abc'), weights=dict(b=0.5)).combine(losses)
    assert float(total) == pytest.approx(1 + 1 + 3)
    assert w == dict(a=1.0, b=0.5, c=1.0)
    with pytest.raises(KeyError, match='unknown tasks'):
        EW(['a'], weights=dict(z=1.0))
    with pytest.raises(ValueError, match='differ from the model tasks'):
        build_balancer(dict(type='EW', tasks=['a', 'x']), ['a', 'b'])


def test_uw_formula_and_log_var_gradient():
    bal = UW(['a', 'b'])
    with torch.no_grad():
        bal.log_vars.copy_(torch.tensor([0.5, -1.0]))
    losses = _losses([2.0, 3.0])
    total, w = bal.combine(losses)
    s = torch.tensor([0.5, -1.0], dtype=torch.float64)
    expected = (torch.tensor([2.0, 3.0], dtype=torch.float64) / (2 * s.exp()) + s / 2).sum()
    assert float(total) == pytest.approx(float(expected), rel=1e-6)
    total.backward()
    # dL/ds_i = -L_i / (2 exp(s_i)) + 1/2
    ref = -torch.tensor([2.0, 3.0], dtype=torch.float64) / (2 * s.exp()) + 0.5
    assert torch.allclose(bal.log_vars.grad.double(), ref, atol=1e-6)


def test_rlw_same_draw_for_same_step_and_sums_to_one():
    a, b = RLW(['a', 'b', 'c'], seed=3), RLW(['a', 'b', 'c'], seed=3)
    _, w1 = a.combine(_losses([1, 1, 1]))
    _, w2 = b.combine(_losses([5, 7, 9]))
    assert w1 == w2 and sum(w1.values()) == pytest.approx(1.0)
    _, w3 = a.combine(_losses([1, 1, 1]))
    assert w3 != w1 and int(a.step) == 2


def test_generalized_mean_limits():
    v = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
    assert float(generalized_mean(v, 1.0)) == pytest.approx(float(v.mean()))
    geo = float(v.log().mean().exp())
    assert float(generalized_mean(v, 0.0)) == pytest.approx(geo)
    assert float(generalized_mean(v, 1e-4)) == pytest.approx(geo, rel=1e-3)
    assert float(generalized_mean(v, 200.0)) == pytest.approx(4.0, rel=1e-2)
    assert float(generalized_mean(v, -200.0)) == pytest.approx(0.5, rel=1e-2)
    assert float(generalized_mean(v, math.inf)) == 4.0
    assert float(generalized_mean(v, 2.0)) == pytest.approx(float((v.pow(2).mean()).sqrt()))


def test_gemtl_implicit_weights_and_schedule():
    bal = GeMTL(list('abc'), p_start=-0.5, p_end=0.5, total_steps=4)
    powers = []
    for _ in range(6):
        powers.append(bal.power())
        losses = _losses([0.5, 2.0, 4.0])
        total, w = bal.combine(losses)
        p = powers[-1]
        v = torch.tensor([0.5, 2.0, 4.0], dtype=torch.float64)
        assert float(total) == pytest.approx(float(((v ** p).mean()) ** (1 / p))
                                             if p else float(v.log().mean().exp()))
        grads = _grad_weights(total, losses)
        ratio = grads / v.pow(p - 1)                      # implicit weight ~ L_i^(p-1)
        assert torch.allclose(ratio, ratio[0].expand(3), rtol=1e-9)
        assert torch.allclose(torch.tensor(list(w.values()), dtype=torch.float64), 3 * grads)
    assert powers == pytest.approx([-0.5, -0.25, 0.0, 0.25, 0.5, 0.5])
    fixed = GeMTL(['a', 'b'], p_start=2.0)
    fixed.combine(_losses([1, 2]))
    assert fixed.power() == 2.0
    assert GeMTL(['a'], p_start=5e3).power() == math.inf


def test_gls_weights_and_zero_loss():
    losses = _losses([1.0, 4.0])
    total, w = GLS(['a', 'b']).combine(losses)
    assert float(total) == pytest.approx(2.0)
    assert w['a'] == pytest.approx(2.0) and w['b'] == pytest.approx(0.5)
    losses = _losses([0.0, 4.0])
    total, _ = GLS(['a', 'b']).combine(losses)
    grads = _grad_weights(total, losses)
    assert bool(torch.isfinite(total)) and bool(torch.isfinite(grads).all())


def test_dwa_weights_on_known_history():
    bal = DWA(['a', 'b', 'c'], temperature=2.0)
    epochs = [[(3.0, 2.0, 1.0), (1.0, 2.0, 3.0)],      # epoch 0 averages (2, 2, 2)
              [(1.0, 2.0, 1.5), (1.0, 1.0, 2.5)]]      # epoch 1 averages (1, 1.5, 2)
    for batches in epochs:
        for values in batches:
            _, w = bal.combine(_losses(values))
            assert list(w.values()) == [1.0, 1.0, 1.0]
        bal.epoch_end()
    _, w = bal.combine(_losses([1.0, 1.0, 1.0]))
    r = torch.tensor([1 / 2, 1.5 / 2, 2 / 2], dtype=torch.float64)
    expected = 3 * torch.softmax(r / 2.0, 0)
    assert torch.allclose(torch.tensor(list(w.values()), dtype=torch.float64), expected)
    assert sum(w.values()) == pytest.approx(3.0)
    # the known bug exp(tau * r) would give a different answer
    assert not torch.allclose(expected, 3 * torch.softmax(r * 2.0, 0))


def test_dtp_formula():
    bal = DTP(['a', 'b'], gamma=2.0, momentum=0.1)
    bal.update_kpis(dict(a=0.2, b=0.9))
    bal.update_kpis(dict(a=0.4))
    kappa = torch.tensor([0.9 * 0.2 + 0.1 * 0.4, 0.9], dtype=torch.float64)
    expected = -(1 - kappa) ** 2 * kappa.log()
    _, w = bal.combine(_losses([1.0, 1.0]))
    assert torch.allclose(torch.tensor(list(w.values()), dtype=torch.float64), expected)


@pytest.mark.parametrize('normalize', ['sum', 'softmax'])
def test_amtl_weights_formula(normalize, tmp_path):
    pot = dict(a=0.5, b=0.8)
    bal = AMTL(['a', 'b'], potentials=pot, normalize=normalize, gamma=2.0, margin=0.05)
    losses = _losses([2.0, 3.0])
    _, w = bal.combine(losses)
    assert list(w.values()) == pytest.approx([0.5, 0.5])          # no KPI yet: uniform
    bal.update_kpis(dict(a=0.3, b=0.9))
    bal.update_kpis(dict(a=0.4, b=0.7))
    kappa = torch.tensor([0.9 * 0.3 + 0.1 * 0.4, 0.9 * 0.9 + 0.1 * 0.7], dtype=torch.float64)
    a = (kappa / (torch.tensor([0.5, 0.8], dtype=torch.float64) * 1.05)).clamp(0, 1 - 1e-6)
    v = (1 - a) ** 2
    expected = torch.softmax(v, 0) if normalize == 'softmax' else v / v.sum()
    total, w = bal.combine(losses)
    got = torch.tensor(list(w.values()), dtype=torch.float64)
    assert torch.allclose(got, expected)
    assert float(total) == pytest.approx(float(2.0 ** expected[0] * 3.0 ** expected[1]))
    assert float(a[1]) == pytest.approx(1 - 1e-6)                 # KPI above potential
    path = tmp_path / 'single_task.json'
    path.write_text(json.dumps(dict(a={'coco/bbox_mAP': 0.5}, b={'enh/ssim': 0.8})))
    from_file = AMTL(['a', 'b'], potentials_file=str(path), normalize=normalize,
                     kpi_keys=dict(a='coco/bbox_mAP', b='enh/ssim'))
    assert torch.equal(from_file.potentials, bal.potentials)


def test_amtl_arithmetic_warmup_and_errors():
    bal = AMTL(['a', 'b'], potentials=dict(a=1.0, b=1.0), warmup_epochs=1, form='arithmetic')
    bal.update_kpis(dict(a=0.9, b=0.1))
    total, w = bal.combine(_losses([2.0, 4.0]))
    assert list(w.values()) == [0.5, 0.5] and float(total) == pytest.approx(6.0)
    bal.epoch_end()
    total, w = bal.combine(_losses([2.0, 4.0]))
    assert w['b'] > w['a'] and float(total) == pytest.approx(2 * (2 * w['a'] + 4 * w['b']))
    with pytest.raises(ValueError, match=r'in \[0, 1\]'):
        bal.update_kpis(dict(a=1.5))
    with pytest.raises(KeyError, match='no potential'):
        AMTL(['a', 'b'], potentials=dict(a=1.0))


def test_famo_weights_and_logit_update():
    bal = FAMO(['a', 'b'], lr=0.1)
    losses = _losses([2.0, 4.0])
    total, w = bal.combine(losses)
    expected = torch.tensor([0.5 / 2, 0.5 / 4], dtype=torch.float64)
    expected /= expected.sum()
    assert torch.allclose(torch.tensor(list(w.values()), dtype=torch.float64), expected)
    assert torch.allclose(_grad_weights(total, losses), expected)
    # task a improved a lot, b did not: a's logit goes down
    bal.post_step({'a': torch.tensor(1.0), 'b': torch.tensor(3.9)})
    assert float(bal.logits[0]) < float(bal.logits[1]) and int(bal.adam_step) == 1


def test_imtl_l_scaled_loss():
    bal = IMTLL(['a', 'b'])
    with torch.no_grad():
        bal.scales.copy_(torch.tensor([0.3, -0.2]))
    total, w = bal.combine(_losses([2.0, 1.0]))
    s = torch.tensor([0.3, -0.2], dtype=torch.float64)
    assert float(total) == pytest.approx(float((torch.tensor([2.0, 1.0]).double() * s.exp()
                                                - s).sum()), rel=1e-6)
    total.backward()
    ref = torch.tensor([2.0, 1.0], dtype=torch.float64) * s.exp() - 1
    assert torch.allclose(bal.scales.grad.double(), ref, atol=1e-6)
