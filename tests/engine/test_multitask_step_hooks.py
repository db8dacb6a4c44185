"""BalancerHook and TaskKPIHook without a Runner (a minimal runner stand-in)."""
import pytest
import torch
from mmengine.logging import MessageHub

from mtlunder.engine import BalancerHook, TaskKPIHook
from tests.balancers.toy_model import ToyMultiTask


class _Runner:

    def __init__(self, model, name):
        self.model = model
        self.message_hub = MessageHub.get_instance(name)


def _losses(a, b):
    return {'a': torch.tensor(a), 'b': torch.tensor(b)}


def test_balancer_hook_logs_weights_and_closes_epochs():
    runner = _Runner(ToyMultiTask(dict(type='DWA')), 'hook-dwa')
    balancer = runner.model.balancer
    hook = BalancerHook()
    for epoch_losses in ([2.0, 2.0], [1.0, 1.5]):
        balancer.combine(_losses(*epoch_losses))
        hook.after_train_iter(runner, 0)
        assert runner.message_hub.get_scalar('train/weight_a').current() == 1.0
        hook.after_train_epoch(runner)
    _, weights = balancer.combine(_losses(1.0, 1.0))
    hook.after_train_iter(runner, 0)
    r = torch.tensor([0.5, 0.75], dtype=torch.float64)
    expected = 2 * torch.softmax(r / 2, 0)
    assert runner.message_hub.get_scalar('train/weight_b').current() == pytest.approx(
        float(expected[1]))
    assert int(balancer.epoch) == 2


def test_task_kpi_hook_feeds_amtl_once_per_validation():
    model = ToyMultiTask(dict(type='AMTL', potentials=dict(a=0.5, b=40.0 / 40.0)))
    runner = _Runner(model, 'hook-kpi')
    hook = TaskKPIHook(kpi_keys=dict(a='coco/bbox_mAP', b='enh/psnr'), kpi_scales=dict(b=40.0))
    hook.after_val_epoch(runner, {'coco/bbox_mAP': 0.25, 'enh/psnr': 20.0})
    assert model.balancer.kpi_ema.tolist() == pytest.approx([0.25, 0.5])
    hook.after_val_epoch(runner, {'coco/bbox_mAP': 0.35})     # enh missing: kept
    assert model.balancer.kpi_ema.tolist() == pytest.approx([0.9 * 0.25 + 0.1 * 0.35, 0.5])
    with pytest.raises(ValueError, match='kpi_keys'):
        TaskKPIHook(kpi_keys={})
