"""``--resume`` without a value survives a truncated or damaged latest checkpoint: it falls
back to the newest readable one, with a warning naming the bad file."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mtlunder.compat import UnsafeCheckpointError
from mtlunder.engine import find_resumable_checkpoint
from mtlunder.engine.resume import checkpoint_problem

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'toy_regression.py')


def _train(work_dir, *extra):
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), TOY_CONFIG,
           '--work-dir', str(work_dir), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A work dir of the toy config: iter_4.pth, iter_8.pth and last_checkpoint -> iter_8."""
    work_dir = tmp_path_factory.mktemp('toy_run')
    _train(work_dir)
    return work_dir


def _copy_run(src, dst):
    dst.mkdir()
    for name in ('iter_4.pth', 'iter_8.pth'):
        (dst / name).write_bytes((src / name).read_bytes())
        os.utime(dst / name, (1000 + int(name[5]), ) * 2)  # iter_8 is the newest
    (dst / 'last_checkpoint').write_text(str(dst / 'iter_8.pth'))
    return dst


def _truncate(path, fraction=0.6):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])


def test_truncated_latest_checkpoint_falls_back_through_tools_train(trained, tmp_path):
    work_dir = _copy_run(trained, tmp_path / 'run')
    _truncate(work_dir / 'iter_8.pth')
    log = _train(work_dir, '--resume', '--cfg-options', 'train_cfg.max_iters=12')
    assert f'Cannot resume from {work_dir / "iter_8.pth"}' in log
    assert f'Resuming from {work_dir / "iter_4.pth"}' in log
    assert 'resumed epoch: 0, iter: 4' in log
    assert osp.isfile(work_dir / 'iter_12.pth')


def test_damaged_or_missing_targets_and_pointers(trained, tmp_path):
    work_dir = _copy_run(trained, tmp_path / 'run')
    assert find_resumable_checkpoint(str(work_dir)) == str(work_dir / 'iter_8.pth')

    data = bytearray((work_dir / 'iter_8.pth').read_bytes())  # bit rot inside a tensor
    data[len(data) // 2:len(data) // 2 + 64] = bytes(64)
    (work_dir / 'iter_8.pth').write_bytes(bytes(data))
    assert 'CRC' in checkpoint_problem(str(work_dir / 'iter_8.pth'))
    assert find_resumable_checkpoint(str(work_dir)) == str(work_dir / 'iter_4.pth')

    (work_dir / 'last_checkpoint').write_text('')  # truncated pointer
    assert find_resumable_checkpoint(str(work_dir)) == str(work_dir / 'iter_4.pth')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_'))  # cut-off path
    assert find_resumable_checkpoint(str(work_dir)) == str(work_dir / 'iter_4.pth')
    assert checkpoint_problem(str(work_dir / 'iter_')) == 'no such file'

    _truncate(work_dir / 'iter_4.pth', 0.3)
    assert find_resumable_checkpoint(str(work_dir)) is None  # nothing readable: from scratch
    os.remove(work_dir / 'last_checkpoint')
    assert find_resumable_checkpoint(str(work_dir)) is None  # mmengine: nothing to resume


def test_an_unsafe_checkpoint_is_never_skipped_silently(tmp_path):
    torch.save(dict(state_dict={}, meta=dict(cb=os.getcwd)), tmp_path / 'epoch_1.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    with pytest.raises(UnsafeCheckpointError, match='epoch_1.pth'):
        find_resumable_checkpoint(str(tmp_path))
    torch.save(dict(weights=torch.ones(1)), tmp_path / 'epoch_1.pth')
    assert 'no state_dict' in checkpoint_problem(str(tmp_path / 'epoch_1.pth'))
