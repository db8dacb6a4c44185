"""data_tools/synth_underwater.py writes a small dataset and refuses to overwrite it."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, str(ROOT / 'data_tools' / 'synth_underwater.py'),
                           *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_writes_a_tiny_dataset_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / 'uw'
    args = ['--out', str(out), '--num-images', '6', '--size', '64', '64', '--seed', '2',
            '--val-fraction', '0.34']
    done = _run(*args)
    assert done.returncode == 0, done.stderr
    assert 'images/s' in done.stdout and 'PSNR' in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ['uw']
    train = json.loads((out / 'annotations' / 'train.json').read_text())
    val = json.loads((out / 'annotations' / 'val.json').read_text())
    assert len(train['images']) == 4 and len(val['images']) == 2
    assert len(list((out / 'images').glob('*.png'))) == 6
    assert len(list((out / 'references').glob('*.png'))) == 6
    stamp = (out / 'annotations' / 'train.json').stat().st_mtime_ns

    refused = _run(*args)
    assert refused.returncode != 0 and 'already exists' in refused.stderr
    assert (out / 'annotations' / 'train.json').stat().st_mtime_ns == stamp

    assert json.loads((out / '.mtlunder-dataset.json').read_text())['tool'] == 'synth_underwater'

    replaced = _run(*args[:-2], '--val-fraction', '0.5', '--overwrite')
    assert replaced.returncode == 0, replaced.stderr
    val = json.loads((out / 'annotations' / 'val.json').read_text())
    assert len(val['images']) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ['uw']


def test_cli_never_replaces_a_folder_it_did_not_write(tmp_path):
    """The generator reads no input, so the only unsafe output is a foreign folder."""
    out = tmp_path / 'data'
    (out / 'raw').mkdir(parents=True)
    (out / 'raw' / 'notes.txt').write_text('notes')
    done = _run('--out', str(out), '--num-images', '2', '--size', '32', '32', '--overwrite')
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f'error: {out}: refusing to replace it: the folder is not empty and has no '
        '.mtlunder-dataset.json, so it is not a dataset written by an mtlunder tool '
        '(--overwrite only replaces those); choose another output folder, or empty it yourself']
    assert (out / 'raw' / 'notes.txt').read_text() == 'notes'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data']


def test_cli_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    """A real SIGINT to the process group while the images are rendered (2 worker
    processes): one line, status 130, no temporary folder left, no traceback from the
    parent or the workers."""
    import signal
    import time

    out = tmp_path / 'uw'
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / 'data_tools' / 'synth_underwater.py'), '--out', str(out),
         '--num-images', '5000', '--size', '64', '64', '--workers', '2'],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
        # a shell without job control starts background jobs (pytest run with `&`) with
        # SIGINT ignored, and the child would inherit that: give it the terminal's default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob('.uw.tmp-*/images/*.png')):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)  # polling for the first rendered image, not a fixed wait
    try:
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: the parent and its workers
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert 'Traceback' not in err
    assert err.strip().splitlines() == [f'interrupted while writing {out}; nothing was written '
                                        f'({out} was not created)']
    assert list(tmp_path.iterdir()) == []
