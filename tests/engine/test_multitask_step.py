"""The multi-task train step in a single process, checked against hand-computed updates."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mtlunder.balancers import min_norm_weights
from tests.balancers.toy_model import TASKS, ToyMultiTask, make_batch

LR = 0.1


def _wrapper(model, **kwargs):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=LR), **kwargs)


def _flat(grads):
    return torch.cat([g.reshape(-1) for g in grads])


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _task_grads(model, batch):
    """Per-task loss and gradients of shared and own head parameters."""
    losses = model(**batch, mode='loss')
    shared = model.shared_parameters()
    out = {}
    for t in TASKS:
        loss = losses[f'{t}.loss_mse']
        out[t] = (_flat(torch.autograd.grad(loss, shared, retain_graph=True)),
                  torch.autograd.grad(loss, model.task_parameters(t), retain_graph=True))
    return out


def _apply(model, shared_update, head_grads, lr=LR):
    with torch.no_grad():
        offset = 0
        for p in model.shared_parameters():
            p -= lr * shared_update[offset:offset + p.numel()].view_as(p)
            offset += p.numel()
        for t, grads in head_grads.items():
            for p, g in zip(model.task_parameters(t), grads):
                p -= lr * g


def _assert_same(model, ref, atol=1e-12):
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters()):
        assert torch.allclose(p, q, atol=atol, rtol=0), name


def test_loss_based_ew_is_plain_sgd():
    model = ToyMultiTask(dict(type='EW'))
    ref = copy.deepcopy(model)
    batch = make_batch(0)
    log_vars = model.train_step(batch, _wrapper(model))
    assert set(log_vars) == {'loss', 'a.loss_mse', 'b.loss_mse'}
    losses = ref(**batch, mode='loss')
    opt = torch.optim.SGD(ref.parameters(), lr=LR)
    sum(losses.values()).backward()
    opt.step()
    _assert_same(model, ref)
    assert model.balancer.last_weights == dict(a=1.0, b=1.0)


def test_mgda_params_step_matches_hand_computation():
    model = ToyMultiTask(dict(type='MGDA'))
    ref = copy.deepcopy(model)
    batch = make_batch(1)
    model.train_step(batch, _wrapper(model))
    g = _task_grads(ref, batch)
    ga, gb = g['a'][0], g['b'][0]
    gamma = min(max(float((gb - ga) @ gb / ((ga - gb) @ (ga - gb))), 0.0), 1.0)
    assert ga @ gb < 0, 'the toy tasks should conflict'
    _apply(ref, gamma * ga + (1 - gamma) * gb, {t: g[t][1] for t in TASKS})
    _assert_same(model, ref)
    assert model.balancer.last_weights['a'] == pytest.approx(gamma)


def test_mgda_ub_repr_step_matches_hand_computation():
    model = ToyMultiTask(dict(type='MGDAUB'))
    ref = copy.deepcopy(model)
    batch = make_batch(2)
    model.train_step(batch, _wrapper(model))
    z, = ref.extract_shared(batch['inputs'])
    losses = ref.loss_from_shared((z,), batch['data_samples'])
    la, lb = losses['a.loss_mse'], losses['b.loss_mse']
    gz = torch.stack([torch.autograd.grad(l, z, retain_graph=True)[0].reshape(-1)
                      for l in (la, lb)])
    w = min_norm_weights(gz @ gz.T)
    combined = w[0] * la + w[1] * lb          # shared params: gradient of the weighted loss
    shared_update = _flat(torch.autograd.grad(combined, ref.shared_parameters(),
                                              retain_graph=True))
    heads = {t: torch.autograd.grad(l, ref.task_parameters(t), retain_graph=True)
             for t, l in zip(TASKS, (la, lb))}
    _apply(ref, shared_update, heads)
    _assert_same(model, ref)


def test_gradient_accumulation_and_clipping():
    model = ToyMultiTask(dict(type='PCGrad'))
    ref = copy.deepcopy(model)
    wrapper = _wrapper(model, accumulative_counts=2)
    b1, b2 = make_batch(3), make_batch(4)
    before = _params(model)
    model.train_step(b1, wrapper)
    assert all(torch.equal(p, before[k]) for k, p in model.named_parameters())
    model.train_step(b2, wrapper)
    updates, heads = [], {t: None for t in TASKS}
    for batch in (b1, b2):
        g = _task_grads(ref, batch)
        ga, gb = g['a'][0], g['b'][0]
        pa = ga - min(float(ga @ gb), 0) / float(gb @ gb) * gb
        pb = gb - min(float(gb @ ga), 0) / float(ga @ ga) * ga
        updates.append(pa + pb)
        for t in TASKS:
            heads[t] = g[t][1] if heads[t] is None else [x + y for x, y in zip(heads[t], g[t][1])]
    _apply(ref, (updates[0] + updates[1]) / 2, {t: [x / 2 for x in heads[t]] for t in TASKS})
    _assert_same(model, ref)

    clipped = ToyMultiTask(dict(type='MGDA'))
    before = _params(clipped)
    clipped.train_step(make_batch(5), _wrapper(clipped, clip_grad=dict(max_norm=0.01)))
    step = torch.cat([(p - before[k]).reshape(-1) for k, p in clipped.named_parameters()])
    assert float(step.norm()) == pytest.approx(LR * 0.01, rel=1e-4)


def test_imtl_trains_loss_scales_with_the_model_optimiser():
    model = ToyMultiTask(dict(type='IMTL'))
    batch = make_batch(6)
    losses = {k: float(v) for k, v in model(**batch, mode='loss').items()}
    model.train_step(batch, _wrapper(model))
    # d/ds (L e^s - s) at s = 0 is L - 1
    expected = torch.tensor([-LR * (losses[f'{t}.loss_mse'] - 1) for t in TASKS])
    assert torch.allclose(model.balancer.scales.detach().double(), expected.double(),
                          atol=1e-6)


@pytest.mark.parametrize('name', ['EW', 'MGDA'])
def test_nan_loss_skips_step_and_is_counted(name):
    hub = MessageHub.get_instance(f'nan-test-{name}')
    model = ToyMultiTask(dict(type=name))
    before = _params(model)
    wrapper = _wrapper(model)
    model.train_step(make_batch(7, nan=['b']), wrapper)
    assert all(torch.equal(p, before[k]) for k, p in model.named_parameters())
    assert all(p.grad is None or not bool(p.grad.any()) for p in model.parameters())
    assert int(model.balancer.skipped_steps) == 1
    assert MessageHub.get_current_instance() is hub
    assert hub.get_info('skipped_steps') == 1
    model.train_step(make_batch(8), wrapper)
    assert any(not torch.equal(p, before[k]) for k, p in model.named_parameters())
    assert int(model.balancer.skipped_steps) == 1


@pytest.mark.parametrize('name', ['GLS', 'AMTL', 'MGDA', 'NashMTL', 'DBMTL'])
def test_absent_task_contributes_nothing(name):
    cfg = dict(type=name)
    if name == 'AMTL':
        cfg['potentials'] = dict(a=0.5, b=0.5)
    model = ToyMultiTask(cfg)
    before = _params(model)
    log_vars = model.train_step(make_batch(9, tasks=['a']), _wrapper(model))
    assert 'b.loss_mse' not in log_vars
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    for k, p in model.heads['b'].named_parameters():
        assert torch.equal(p, before[f'heads.b.{k}'])
    assert not torch.equal(model.heads['a'].weight, before['heads.a.weight'])
    assert set(model.balancer.last_weights) == {'a'}


def test_amp_loss_scaling_matches_fp32_and_handles_overflow(monkeypatch):
    from mmengine.optim import AmpOptimWrapper
    from mmengine.optim.optimizer import amp_optimizer_wrapper as amp_module

    monkeypatch.setattr(amp_module, 'is_cuda_available', lambda: True)

    def amp_wrapper(model, scale):
        wrapper = AmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=LR),
                                  loss_scale='dynamic')
        wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=scale)
        wrapper.optim_context = _wrapper(model).optim_context   # no CUDA autocast on CPU
        return wrapper

    model = ToyMultiTask(dict(type='MGDA'), dtype=torch.float32)
    ref = copy.deepcopy(model)
    batch = make_batch(10, dtype=torch.float32)
    wrapper = amp_wrapper(model, 2.0 ** 10)
    model.train_step(batch, wrapper)
    ref.train_step(batch, _wrapper(ref))
    _assert_same(model, ref, atol=1e-6)
    assert wrapper.loss_scaler.get_scale() == 2.0 ** 10

    before = _params(model)
    wrapper = amp_wrapper(model, 2.0 ** 127)                  # the scaled loss overflows
    model.train_step(batch, wrapper)
    assert all(torch.equal(p, before[k]) for k, p in model.named_parameters())
    assert wrapper.loss_scaler.get_scale() < 2.0 ** 127


def test_parse_task_losses_groups_by_task_prefix():
    from mtlunder.engine import parse_task_losses

    raw = {'det.loss_cls': torch.tensor([1.0, 3.0]), 'det.loss_bbox': [torch.tensor(1.0),
                                                                      torch.tensor([2.0, 4.0])],
           'det.acc': torch.tensor(0.5), 'enh.loss_l1': torch.tensor(0.25)}
    task_losses, log_vars = parse_task_losses(raw)
    assert list(task_losses) == ['det', 'enh']
    assert float(task_losses['det']) == 2.0 + 1.0 + 3.0
    assert float(log_vars['loss']) == 6.25 and float(log_vars['det.acc']) == 0.5
    with pytest.raises(KeyError, match="'loss_cls' is not task-prefixed"):
        parse_task_losses({'loss_cls': torch.tensor(1.0)})


@pytest.mark.parametrize('name', ['GLS', 'MGDA', 'MGDAUB'])
def test_cpu_bf16_autocast_wrapper(name):
    from mtlunder.compat import CPUAutocastOptimWrapper

    model = ToyMultiTask(dict(type=name), dtype=torch.float32)
    ref = copy.deepcopy(model)
    batch = make_batch(11, dtype=torch.float32)
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=LR))
    model.train_step(batch, wrapper)
    ref.train_step(batch, _wrapper(ref))
    assert all(p.dtype == torch.float32 for p in model.parameters())
    moved = max(float((p - q).abs().max()) for p, q in
                zip(model.parameters(), ToyMultiTask(dict(type=name), dtype=torch.float32)
                    .parameters()))
    assert moved > 1e-4
    _assert_same(model, ref, atol=5e-2)          # bf16 forward: close to the fp32 step
