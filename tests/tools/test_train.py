"""The real mmengine Runner through tools/train.py: train, checkpoint, resume, AMP, DDP."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mtlunder.compat import safe_load

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'toy_regression.py')


def run_train(work_dir, *extra, module_env=None):
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), TOY_CONFIG,
           '--work-dir', str(work_dir), *extra]
    env = dict(os.environ, PYTHONPATH=ROOT, **(module_env or {}))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def load_params(path):
    return torch.load(path, weights_only=True)['params']


def test_train_saves_checkpoint_and_resumes_exactly(tmp_path):
    straight = tmp_path / 'straight'
    run_train(straight)
    assert osp.isfile(straight / 'iter_8.pth')

    split = tmp_path / 'split'
    run_train(split, '--cfg-options', 'train_cfg.max_iters=4')
    assert osp.isfile(split / 'iter_4.pth')
    log = run_train(split, '--resume')  # 'auto': latest checkpoint in the work dir
    assert 'resumed epoch: 0, iter: 4' in log
    assert osp.isfile(split / 'iter_8.pth')
    a = load_params(straight / 'params_rank0.pth')
    b = load_params(split / 'params_rank0.pth')
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)

    explicit = tmp_path / 'explicit'
    log = run_train(explicit, '--resume', str(split / 'iter_4.pth'))
    assert 'resumed epoch: 0, iter: 4' in log
    c = load_params(explicit / 'params_rank0.pth')
    for key in a:
        torch.testing.assert_close(a[key], c[key], rtol=0, atol=1e-6)


def test_amp_on_cpu_uses_explicit_bf16_autocast(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('CPU-only path: this machine has CUDA')
    log = run_train(tmp_path, '--amp', '--cfg-options', 'train_cfg.max_iters=2')
    assert 'CPUAutocastOptimWrapper' in log


def test_dist_train_sh_two_cpu_processes_agree(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()))
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), TOY_CONFIG, '2',
         '--work-dir', str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r0 = load_params(tmp_path / 'params_rank0.pth')
    r1 = load_params(tmp_path / 'params_rank1.pth')
    assert r0.keys() == r1.keys()
    for key in r0:
        assert torch.equal(r0[key], r1[key]), key
    # the two ranks trained (parameters moved away from the shared initialisation)
    init = safe_load(str(tmp_path / 'iter_4.pth'))['state_dict']
    assert not torch.equal(init['linear.weight'], r0['linear.weight'])
    for rank in (0, 1):
        info = torch.load(tmp_path / f'params_rank{rank}.pth', weights_only=True)
        assert info['world_size'] == 2 and info['wrapper'] == 'MMDistributedDataParallel'


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_sh_finds_the_project_venv_without_it_on_path(tmp_path):
    venv_python = osp.join(ROOT, '.venv', 'bin', 'python')
    if not osp.isfile(venv_python):
        pytest.skip(f'no project venv at {venv_python} (make setup builds it)')
    drop = {osp.abspath(osp.dirname(venv_python)), osp.abspath(osp.dirname(sys.executable))}
    path = os.pathsep.join(d for d in os.environ.get('PATH', '').split(os.pathsep)
                           if d and osp.abspath(d) not in drop)
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHON', 'VIRTUAL_ENV')}
    env.update(PATH=path, PORT=str(_free_port()))
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), TOY_CONFIG, '2',
         '--work-dir', str(tmp_path), '--cfg-options', 'train_cfg.max_iters=2'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert osp.isfile(tmp_path / 'params_rank1.pth')
