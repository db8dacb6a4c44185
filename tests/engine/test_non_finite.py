"""The non-finite guard of the training steps: a NaN/inf loss or gradient norm is never
applied, on the plain path (no balancer) as on the balancer paths, and the buffers the
forward changed are put back."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from torch import nn

from mtlunder.engine.non_finite import (LAST_SKIP_REASON, SKIPPED_STEPS, describe_losses,
                                        non_finite_losses, non_finite_tensors)
from tests.balancers.toy_model import ToyMultiTask, make_batch
from tests.fixtures.ddp import exit_worker


class NormToy(ToyMultiTask):
    """The toy with a BatchNorm on the input (running statistics are buffers)."""

    def __init__(self, balancer=None):
        super().__init__(balancer)
        self.norm = nn.BatchNorm1d(4).double()

    def extract_shared(self, inputs):
        return super().extract_shared(self.norm(inputs))


def _model(balancer):
    model = NormToy(balancer)
    if balancer is None:
        model.balancer = None  # the plain step: mmengine's sum of the losses
    return model


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _wrapper(model):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))


@pytest.mark.parametrize('balancer', [None, dict(type='DWA'), dict(type='MGDA')])
def test_non_finite_loss_is_skipped_with_buffers_restored(balancer):
    hub = MessageHub.get_instance(f'non-finite-loss-{balancer}')
    model = _model(balancer)
    before = _state(model)
    wrapper = _wrapper(model)
    log_vars = model.train_step(make_batch(1, nan=['b']), wrapper)
    assert not torch.isfinite(log_vars['b.loss_mse'])
    after = _state(model)
    for key, value in before.items():
        if not key.endswith('skipped_steps'):
            assert torch.equal(after[key], value), key  # weights and BatchNorm statistics
    assert all(p.grad is None or not bool(p.grad.any()) for p in model.parameters())
    assert hub.get_info(SKIPPED_STEPS) == 1
    reason = hub.get_info(LAST_SKIP_REASON)
    assert 'task b' in reason and 'b.loss_mse=nan' in reason, reason
    if balancer is not None:
        assert int(model.balancer.skipped_steps) == 1

    model.train_step(make_batch(2), wrapper)  # a finite step is applied again
    assert not torch.equal(model.encoder.weight, before['encoder.weight'])
    assert not torch.equal(model.norm.running_mean, before['norm.running_mean'])
    assert hub.get_info(SKIPPED_STEPS) == 1


@pytest.mark.parametrize('balancer', [None, dict(type='EW'), dict(type='PCGrad')])
def test_non_finite_gradient_is_skipped(balancer):
    """Finite losses whose gradient is inf (a hook poisons the encoder's gradient)."""
    hub = MessageHub.get_instance(f'non-finite-grad-{balancer}')
    model = _model(balancer)
    before = _state(model)
    handle = model.encoder.weight.register_hook(lambda g: g * float('inf'))
    log_vars = model.train_step(make_batch(3), _wrapper(model))
    handle.remove()
    assert torch.isfinite(log_vars['loss'])
    assert all(torch.equal(_state(model)[k], v) for k, v in before.items()
               if not k.endswith('skipped_steps'))
    assert hub.get_info(SKIPPED_STEPS) == 1
    assert 'gradient' in hub.get_info(LAST_SKIP_REASON)


def test_loss_and_tensor_checks_name_the_bad_entries():
    log_vars = {'loss': torch.tensor(float('nan')), 'det.loss_cls': torch.tensor(float('inf')),
                'det.loss_bbox': torch.tensor(1.0), 'det.acc': torch.tensor(float('nan'))}
    bad = non_finite_losses(log_vars)
    assert bad == ['det.loss_cls=inf']  # the total only when no named entry is bad
    assert describe_losses(bad) == 'non-finite loss in task det: det.loss_cls=inf'
    assert non_finite_losses({'loss': torch.tensor(float('nan'))}) == ['loss=nan']
    assert non_finite_losses({'loss': torch.tensor(2.0)}) == []
    tensors = [('a', torch.ones(3)), ('b', torch.tensor([1.0, float('nan')])),
               ('n', torch.tensor([7])), ('c', torch.tensor([float('-inf')]))]
    assert non_finite_tensors(tensors) == ['b', 'c']
    assert non_finite_tensors(tensors[:1]) == []
    assert non_finite_tensors([('huge', torch.full((4, ), 1e30))]) == []  # norm overflows


def _ddp_worker(rank, port, out_dir):
    import os

    import torch.distributed as dist

    from mtlunder.engine import MultiTaskDDP
    from tests.balancers.toy_model import split_batch

    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        for name, balancer in (('plain', None), ('EW', dict(type='EW'))):
            model = _model(balancer)
            ddp = MultiTaskDDP(module=model, device_ids=None, find_unused_parameters=True)
            wrapper = _wrapper(model)
            first = split_batch(make_batch(1), 2)[rank]
            if rank == 1:  # a NaN loss on one rank only
                first['data_samples']['nan'] = ['b']
            ddp.train_step(first, wrapper)
            skipped = _state(model)
            ddp.train_step(split_batch(make_batch(2), 2)[rank], wrapper)
            torch.save(dict(skipped=skipped, trained=_state(model)),
                       os.path.join(out_dir, f'{name}_rank{rank}.pth'))
    finally:
        dist.destroy_process_group()
    exit_worker()  # torch's gloo teardown can deadlock (tests/fixtures/ddp.py)


def test_ddp_ranks_skip_together_and_stay_identical(tmp_path):
    """MultiTaskDDP without a balancer (and with EW): a NaN loss on rank 1 skips the step on
    both ranks (weights and buffers untouched); the next step trains, and both ranks end with
    bit-identical parameters."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.start_processes(_ddp_worker, args=(port, str(tmp_path)), nprocs=2, start_method='spawn')
    initial = _state(_model(None))
    for name in ('plain', 'EW'):
        r0, r1 = (torch.load(tmp_path / f'{name}_rank{r}.pth') for r in (0, 1))
        for key, value in initial.items():
            for rank_state in (r0, r1):
                assert torch.equal(rank_state['skipped'][key], value), (name, key)
        for key in r0['trained']:  # BatchNorm statistics are per rank, as without SyncBN
            if 'norm.' not in key:
                assert torch.equal(r0['trained'][key], r1['trained'][key]), (name, key)
        assert not torch.equal(r0['trained']['encoder.weight'], initial['encoder.weight'])
