"""Gradient-conflict curves: scalars read from a run and tools/analysis/plot_grad_conflict.py."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mtlunder.visualization.grad_conflict import find_scalars, load_conflict_scalars

ROOT = Path(__file__).resolve().parents[2]


def test_plot_script_reads_scalars_and_writes_png(tmp_path):
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    lines = [dict(step=1, lr=0.1), dict(step=2, **{'conflict/cos_det_enh': -0.5,
                                                   'conflict/frac_neg_det_enh': 0.25}),
             dict(step=4, **{'conflict/cos_det_enh': 0.2, 'conflict/frac_neg_det_enh': 0.5}),
             dict(step=4, **{'conflict/cos_det_enh': 0.3, 'conflict/frac_neg_det_enh': 0.5})]
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in lines) + '\n{broken\n')
    series = load_conflict_scalars(find_scalars(str(tmp_path)))
    assert series == {'cos_det_enh': ([2, 4], [-0.5, 0.3]),
                      'frac_neg_det_enh': ([2, 4], [0.25, 0.5])}
    out = tmp_path / 'plot.png'
    proc = subprocess.run([sys.executable, str(ROOT / 'tools/analysis/plot_grad_conflict.py'),
                           str(tmp_path), '--out', str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'skipped 1 malformed line' in proc.stdout
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        find_scalars(str(tmp_path / 'empty'))
