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

    replaced = _run(*args[:-2], '--val-fraction', '0.5', '--overwrite')
    assert replaced.returncode == 0, replaced.stderr
    val = json.loads((out / 'annotations' / 'val.json').read_text())
    assert len(val['images']) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ['uw']
