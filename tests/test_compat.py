"""mtlunder.compat: the end of a distributed process."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

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
