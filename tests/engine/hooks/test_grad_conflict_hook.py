"""GradConflictHook on toy two-task models with known gradients."""
import json
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.visualization import Visualizer
from torch import nn

from mtlunder.engine.hooks import GradConflictHook
from mtlunder.engine.hooks.grad_conflict_hook import gradient_conflicts, group_task_losses


class TwoTaskToy(BaseModel):
    """Shared w1, w2 after a BN: L_a = w1.z + w2.z, L_b = sign1 * w1.z + sign2 * w2.z."""

    def __init__(self, sign1=-1.0, sign2=-1.0):
        super().__init__()
        self.norm = nn.BatchNorm1d(4)
        self.w1 = nn.Parameter(torch.randn(4))
        self.w2 = nn.Parameter(torch.randn(4))
        self.head_b = nn.Parameter(torch.ones(1))
        self.signs = (sign1, sign2)

    def shared_parameters(self):
        return [self.w1, self.w2, self.norm.weight, self.norm.bias]

    def forward(self, inputs, data_samples=None, mode='tensor'):
        z = self.norm(inputs).sum(0)
        la = z @ self.w1 + z @ self.w2
        lb = self.head_b * (self.signs[0] * (z @ self.w1) + self.signs[1] * (z @ self.w2))
        return {'a.loss_x': la, 'b.loss_x': lb.sum(), 'b.acc': torch.tensor(0.5)}


def _runner(model, tmp_path, it):
    vis = Visualizer.get_instance(f'conflict_vis_{tmp_path.name}_{it}',
                                  vis_backends=[dict(type='LocalVisBackend')],
                                  save_dir=str(tmp_path))  # writes vis_data/
    return SimpleNamespace(model=model, iter=it, visualizer=vis,
                           message_hub=MessageHub.get_instance(f'conflict_{tmp_path.name}'),
                           logger=MMLogger.get_instance('conflict_test'))


def test_group_task_losses_uses_the_training_step_semantics():
    losses = {'det.loss_cls': [torch.tensor(1.0), torch.tensor(2.0)],
              'det.loss_bbox': torch.tensor(0.5), 'det.acc': torch.tensor(9.0),
              'enh.loss_l1': torch.tensor([0.25, 0.75])}
    grouped = group_task_losses(losses)
    # lists: sum of means; tensors: mean; non-loss entries only logged
    assert {k: float(v) for k, v in grouped.items()} == {'det': 3.5, 'enh': 0.5}
    assert list(group_task_losses(losses, tasks=['enh'])) == ['enh']
    with pytest.raises(FloatingPointError, match="'enh'"):
        group_task_losses({'enh.loss_l1': torch.tensor(float('nan'))})


def test_opposing_gradients_cosine_minus_one():
    w = nn.Parameter(torch.randn(5))
    v = nn.Parameter(torch.randn(3))
    x, y = torch.randn(5), torch.randn(3)
    stats = gradient_conflicts({'a': w @ x + v @ y, 'b': -(w @ x) - v @ y}, [w, v])
    assert stats['cos_a_b'] == pytest.approx(-1.0)
    assert stats['frac_neg_a_b'] == 1.0
    assert w.grad is None and v.grad is None


def test_partial_conflict_matches_the_math():
    w1, w2 = nn.Parameter(torch.randn(4)), nn.Parameter(torch.randn(4))
    x, y = torch.randn(4), torch.randn(4)
    # grads: a = (x, y), b = (-x, 2y); c touches w2 only
    stats = gradient_conflicts({'a': w1 @ x + w2 @ y, 'b': -(w1 @ x) + 2 * (w2 @ y),
                                'c': w2 @ y}, [w1, w2])
    nx, ny = x.double().square().sum(), y.double().square().sum()
    expected = (-nx + 2 * ny) / ((nx + ny) * (nx + 4 * ny)).sqrt()
    assert stats['cos_a_b'] == pytest.approx(float(expected), rel=1e-6)
    assert stats['frac_neg_a_b'] == 0.5
    # a and c: both non-zero only on w2, where they agree
    assert stats['cos_a_c'] == pytest.approx(float(ny / ((nx + ny) * ny).sqrt()), rel=1e-6)
    assert stats['frac_neg_a_c'] == 0.0
    assert set(stats) == {f'{k}_{p}' for k in ('cos', 'frac_neg')
                          for p in ('a_b', 'a_c', 'b_c')}


@pytest.mark.parametrize('signs,cos,frac', [((-1.0, -1.0), -1.0, 1.0), ((1.0, 1.0), 1.0, 0.0)])
def test_hook_logs_and_leaves_training_untouched(tmp_path, signs, cos, frac):
    torch.manual_seed(0)
    model = TwoTaskToy(*signs).train()
    hook = GradConflictHook(interval=2)
    batch = dict(inputs=torch.randn(6, 4), data_samples=None)
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()

    runner = _runner(model, tmp_path, it=0)  # iteration 1: not a multiple of 2
    hook.before_train_iter(runner, 0, batch)
    assert 'conflict/cos_a_b' not in runner.message_hub.log_scalars

    runner = _runner(model, tmp_path, it=1)
    hook.before_train_iter(runner, 1, batch)
    hub = runner.message_hub
    # BN weight/bias get gradients only through w.z: w1, w2 are exactly opposed or equal,
    # BN affine parameters too, so the whole-vector cosine is -1 or +1
    assert hub.get_scalar('conflict/cos_a_b').current() == pytest.approx(cos, abs=1e-6)
    assert hub.get_scalar('conflict/frac_neg_a_b').current() == frac
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, buffers[k]) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
    records = [json.loads(line) for line in
               (tmp_path / 'vis_data' / 'scalars.json').read_text().splitlines()]
    assert records[-1]['step'] == 2
    assert records[-1]['conflict/cos_a_b'] == pytest.approx(cos, abs=1e-6)


def test_single_task_batch_logs_nothing(tmp_path):
    class OneTask(TwoTaskToy):
        def forward(self, inputs, data_samples=None, mode='tensor'):
            return {'a.loss_x': super().forward(inputs)['a.loss_x']}

    runner = _runner(OneTask(), tmp_path, it=0)
    GradConflictHook(interval=1).before_train_iter(runner, 0, dict(inputs=torch.randn(3, 4)))
    assert not any(k.startswith('conflict/') for k in runner.message_hub.log_scalars)


def test_model_without_shared_parameters_is_an_error():
    class NoShared(TwoTaskToy):
        def shared_parameters(self):
            return []

    with pytest.raises(ValueError, match='NoShared has no shared'):
        GradConflictHook().measure(NoShared(), dict(inputs=torch.randn(3, 4)))
