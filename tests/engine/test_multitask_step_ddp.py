"""Two gloo processes on CPU train exactly like one process fed the same global batch.

The processes are started with ``torch.multiprocessing.start_processes`` and the ``spawn``
method (a ``fork`` of the pytest process can inherit thread pools and hang). A deadline turns
a hang into a failure, and each worker dumps its stack to ``stack_rank<r>.txt`` if it is
still running after 210 s.
"""
import os

import torch

from tests.balancers.toy_model import (WORLD, ToyMultiTask, free_port, global_batches,
                                       split_batch, train_steps)
from tests.fixtures.ddp import exit_worker, run_workers

METHODS = ['MGDA', 'PCGrad', 'MGDAUB', 'EW', 'GLS']
#: task b labelled only in the first half of each global batch, i.e. only on rank 0: one
#: method of each kind (Gram, representation, loss, TorchJD Gramian and Jacobian, full
#: gradients, stateful Gram, scalarization)
PARTIAL = [dict(type='MGDA'), dict(type='MGDAUB'), dict(type='GLS'), dict(type='UPGrad'),
           dict(type='ConFIG'), dict(type='GradDrop'), dict(type='GradVac'),
           dict(type='STCH', mu=0.2, pref=[1.0, 2.0])]


def _runs():
    """``(tag, balancer config, partial)`` of every checked run."""
    return [(name, dict(type=name), False) for name in METHODS] + \
        [(f"{cfg['type']}_partial", cfg, True) for cfg in PARTIAL]


def _worker(rank, port, out_dir):
    import faulthandler

    import torch.distributed as dist

    from mtlunder.engine import MultiTaskDDP

    stack_file = open(os.path.join(out_dir, f'stack_rank{rank}.txt'), 'w')
    faulthandler.dump_traceback_later(210, exit=True, file=stack_file)
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    try:
        for tag, cfg, partial in _runs():
            model = ToyMultiTask(cfg)
            ddp = MultiTaskDDP(module=model, device_ids=None, find_unused_parameters=partial)
            local = [split_batch(b, WORLD)[rank] for b in global_batches(partial)]
            state = train_steps(model, local, ddp)
            torch.save(state, os.path.join(out_dir, f'{tag}_rank{rank}.pth'))
    finally:
        dist.destroy_process_group()
        faulthandler.cancel_dump_traceback_later()
        stack_file.close()
    exit_worker()  # torch's gloo teardown can deadlock (tests/fixtures/ddp.py)


def test_two_process_gloo_equals_single_process(tmp_path):
    run_workers(_worker, (free_port(), str(tmp_path)), WORLD, timeout_s=240)
    for tag, cfg, partial in _runs():
        single = train_steps(ToyMultiTask(cfg), global_batches(partial))
        ranks = [torch.load(tmp_path / f'{tag}_rank{r}.pth', weights_only=True)
                 for r in range(WORLD)]
        start = ToyMultiTask(cfg).state_dict()
        moved = max(float((single[k] - start[k]).abs().max()) for k in single)
        assert moved > 1e-3, f'{tag}: training did not move the parameters'
        if cfg['type'] == 'GradVac':             # its per-pair targets are state to match
            assert float(single['balancer.targets'].abs().max()) > 0
        for key, value in single.items():
            assert torch.equal(ranks[0][key], ranks[1][key]), f'{tag}: ranks differ at {key}'
            diff = float((ranks[0][key].double() - value.double()).abs().max())
            assert diff < 1e-6, f'{tag}: DDP and single process differ at {key} by {diff}'
