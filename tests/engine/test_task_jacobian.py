"""The loss-mode forward and the task Jacobian shared by the training step and
GradConflictHook; the step drives the optim wrapper through its public methods only."""
import torch
from mmengine.optim import OptimWrapper

from mtlunder.engine.task_jacobian import loss_forward, task_jacobian
from mtlunder.engine.task_losses import parse_task_losses
from tests.balancers.toy_model import TASKS, ToyMultiTask, make_batch


def test_task_jacobian_equals_autograd_per_task_with_zeros_for_unused():
    model = ToyMultiTask()
    _, raw, _ = loss_forward(model, make_batch(0))
    losses, _ = parse_task_losses(raw)
    shared = model.shared_parameters()
    own = {t: model.task_parameters(t) for t in TASKS}
    rows = list(task_jacobian(losses, shared, own, retain_graph=True))
    assert [task for task, _, _ in rows] == list(TASKS)
    for task, grads, head in rows:
        ref = torch.autograd.grad(losses[task], shared + own[task], retain_graph=True)
        assert all(torch.equal(g, r) for g, r in zip(grads + head, ref))
    # head 'b' is not reached by loss 'a': zeros of its shape, not None
    (_, grads, head), = task_jacobian({'a': losses['a']}, shared, {'a': own['b']})
    assert all(torch.equal(h, torch.zeros_like(p)) for h, p in zip(head, own['b']))
    assert any(bool(g.abs().sum() > 0) for g in grads)


def test_task_jacobian_of_scaled_losses():
    class Scaler:
        def scale(self, loss):
            return loss * 8.0

    model = ToyMultiTask()
    _, raw, _ = loss_forward(model, make_batch(1))
    losses, _ = parse_task_losses(raw)
    shared = model.shared_parameters()
    plain = {t: g for t, g, _ in task_jacobian(losses, shared, retain_graph=True)}
    scaled = {t: g for t, g, _ in task_jacobian(losses, shared, loss_scaler=Scaler())}
    for task in TASKS:
        assert all(torch.equal(8.0 * p, s) for p, s in zip(plain[task], scaled[task]))


def test_loss_forward_repr_returns_z_and_passes_the_inputs():
    seen = {}

    class Recording(ToyMultiTask):
        def loss_from_shared(self, shared, data_samples, batch_inputs=None):
            seen['inputs'] = batch_inputs
            return super().loss_from_shared(shared, data_samples, batch_inputs)

    model = Recording()
    batch = make_batch(2)
    data, raw, shared = loss_forward(model, batch, shared_repr=True)
    assert seen['inputs'] is data['inputs']
    assert len(shared) == 1 and shared[0].shape == (8, 6) and shared[0].requires_grad
    assert set(raw) == {f'{t}.loss_mse' for t in TASKS}
    assert loss_forward(model, batch)[2] is None


class _NoPrivateCount(OptimWrapper):
    """An optim wrapper that fails when anything touches its private ``_inner_count`` from
    outside its own methods (the mmengine base class keeps using it)."""

    def __setattr__(self, name, value):
        import inspect

        if name == '_inner_count':
            caller = inspect.stack()[1]
            assert caller.filename.endswith('optimizer_wrapper.py'), \
                f'_inner_count set from {caller.filename}:{caller.lineno}'
        super().__setattr__(name, value)


def test_gradient_step_uses_only_the_wrappers_public_counting():
    for cfg in (dict(type='MGDA'), dict(type='MGDAUB')):
        model = ToyMultiTask(cfg)
        wrapper = _NoPrivateCount(torch.optim.SGD(model.parameters(), lr=0.1),
                                  accumulative_counts=2)
        before = model.encoder.weight.detach().clone()
        model.train_step(make_batch(0), wrapper)
        assert wrapper.inner_count == 1 and torch.equal(model.encoder.weight, before)
        model.train_step(make_batch(1), wrapper)
        assert wrapper.inner_count == 2 and not torch.equal(model.encoder.weight, before)
