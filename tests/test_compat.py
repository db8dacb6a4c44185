"""mtlunder.compat: safe checkpoint loading (weights_only=True and an explicit allow-list) and
the end of a distributed process."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from mtlunder import compat

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

@pytest.fixture(autouse=True)
def safe_loader():
    compat.install_safe_checkpoint_loader()


def test_mmengine_globals_are_allowed(tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint

    path = tmp_path / 'ok.pth'
    buf = HistoryBuffer()
    buf.update(1.5)
    torch.save(dict(meta=dict(seed=np.int64(3), arr=np.arange(3, dtype=np.float32)),
                    message_hub=dict(log_scalars={'loss': buf}),
                    state_dict={'w': torch.ones(2)}, idx=slice(0, 2)), path)
    ckpt = _load_checkpoint(str(path))
    assert ckpt['message_hub']['log_scalars']['loss'].current() == 1.5
    assert ckpt['meta']['arr'].dtype == np.float32 and ckpt['meta']['seed'] == 3


def test_forbidden_global_is_refused_with_its_name(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={'w': torch.ones(1)}, hook=osp.join), path)
    with pytest.raises(compat.UnsafeCheckpointError) as err:
        _load_checkpoint(str(path))
    message = str(err.value)
    assert 'posixpath.join' in message and compat.TRUSTED_ENV in message
    assert str(path) in message
    # the explicit, per-file opt-in loads it fully
    with compat.trust_checkpoint(str(path)):
        assert _load_checkpoint(str(path))['hook'] is osp.join
    with pytest.raises(compat.UnsafeCheckpointError):
        _load_checkpoint(str(path))


def test_safety_is_not_disabled_globally(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(hook=osp.join), path)
    import pickle

    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.safe_load(str(tmp_path / 'nope.pth'))


CHILD = textwrap.dedent('''
    import logging, os, sys
    import torch.distributed as dist
    from mtlunder.compat import exit_distributed

    logger = logging.getLogger('run')
    logger.addHandler(logging.FileHandler(sys.argv[1]))
    logger.setLevel(logging.INFO)
    if sys.argv[2] == 'distributed':
        dist.init_process_group('gloo', init_method='tcp://127.0.0.1:' + sys.argv[3],
                                rank=0, world_size=1)
        dist.all_reduce(__import__('torch').ones(3))
    logger.info('checkpoint saved')
    print('before exit', flush=False)
    exit_distributed()
    print('after exit: ' + str(dist.is_initialized()))
''')


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run_child(tmp_path, mode):
    log = tmp_path / f'{mode}.log'
    proc = subprocess.run(
        [sys.executable, '-c', CHILD, str(log), mode, str(_free_port())], cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True, timeout=120)
    return proc, log.read_text()


def test_exit_distributed_ends_a_distributed_process_with_code_0_and_flushed_output(
        tmp_path):
    proc, log = _run_child(tmp_path, 'distributed')
    assert proc.returncode == 0, proc.stderr
    assert log == 'checkpoint saved\n'  # the file handler was flushed and closed
    assert proc.stdout == 'before exit\n'  # buffered stdout flushed; nothing ran after it


def test_exit_distributed_returns_when_no_process_group_is_set_up(tmp_path):
    proc, log = _run_child(tmp_path, 'single')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'before exit\nafter exit: False\n'
    assert log == 'checkpoint saved\n'
