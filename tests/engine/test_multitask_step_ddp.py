"""Two gloo processes on CPU train exactly like one process fed the same global batch.

The processes are started with ``torch.multiprocessing.start_processes`` and the ``spawn``
method (a ``fork`` of the pytest process can inherit thread pools and hang). A deadline turns
a hang into a failure, and each worker dumps its stack to ``stack_rank<r>.txt`` if it is
still running after 150 s.
"""
import os
import socket

import torch

from tests.balancers.toy_model import ToyMultiTask, make_batch, split_batch
from tests.fixtures.ddp import exit_worker, run_workers

METHODS = ['MGDA', 'PCGrad', 'MGDAUB', 'EW', 'GLS']
#: task b labelled only in the first half of each global batch, i.e. only on rank 0
PARTIAL = ['MGDA', 'MGDAUB', 'GLS']
STEPS = 3
WORLD = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _batches(partial=False):
    batches = [make_batch(100 + k, size=8) for k in range(STEPS)]
    if partial:
        for b in batches:
            b['data_samples']['labelled'] = torch.tensor([[True, i < 4] for i in range(8)])
    return batches


def _train(model, batches, wrapper_model=None):
    from mmengine.optim import OptimWrapper

    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    for batch in batches:
        (wrapper_model or model).train_step(batch, wrapper)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _worker(rank, port, out_dir):
    import faulthandler

    import torch.distributed as dist

    from mtlunder.engine import MultiTaskDDP

    stack_file = open(os.path.join(out_dir, f'stack_rank{rank}.txt'), 'w')
    faulthandler.dump_traceback_later(150, exit=True, file=stack_file)
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo', rank=rank, world_size=WORLD)
    try:
        runs = [(name, False) for name in METHODS] + [(name, True) for name in PARTIAL]
        for name, partial in runs:
            model = ToyMultiTask(dict(type=name))
            ddp = MultiTaskDDP(module=model, device_ids=None, find_unused_parameters=partial)
            local = [split_batch(b, WORLD)[rank] for b in _batches(partial)]
            state = _train(model, local, ddp)
            tag = f'{name}_partial' if partial else name
            torch.save(state, os.path.join(out_dir, f'{tag}_rank{rank}.pth'))
    finally:
        dist.destroy_process_group()
        faulthandler.cancel_dump_traceback_later()
        stack_file.close()
    exit_worker()  # torch's gloo teardown can deadlock (tests/fixtures/ddp.py)


def test_two_process_gloo_equals_single_process(tmp_path):
    run_workers(_worker, (_free_port(), str(tmp_path)), WORLD, timeout_s=180)
    runs = [(name, False) for name in METHODS] + [(name, True) for name in PARTIAL]
    for name, partial in runs:
        single = _train(ToyMultiTask(dict(type=name)), _batches(partial))
        tag = f'{name}_partial' if partial else name
        ranks = [torch.load(tmp_path / f'{tag}_rank{r}.pth', weights_only=True)
                 for r in range(WORLD)]
        start = ToyMultiTask(dict(type=name)).state_dict()
        moved = max(float((single[k] - start[k]).abs().max()) for k in single)
        assert moved > 1e-3, f'{name}: training did not move the parameters'
        for key, value in single.items():
            assert torch.equal(ranks[0][key], ranks[1][key]), f'{tag}: ranks differ at {key}'
            diff = float((ranks[0][key].double() - value.double()).abs().max())
            assert diff < 1e-6, f'{tag}: DDP and single process differ at {key} by {diff}'
