import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mtlunder.data_converters import (SourceSpec, browse_dataset, build_underwater_benchmark,
                                      check_dataset)

from .builders import make_pairs, make_voc

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(tmp_path):
    voc = make_voc(tmp_path / 'det', {f'{i}': (48, 40, [('echinus', 3, 4, 20, 30, 0)])
                                      for i in range(4)})
    pairs = make_pairs(tmp_path / 'enh', 'input', 'reference',
                       {f'{i}': ((32, 24), (32, 24)) for i in range(3)})
    out = tmp_path / 'bench'
    build_underwater_benchmark(out, [SourceSpec('det', 'voc', voc)],
                               [SourceSpec('enh', 'generic', pairs)], split=(0.5, 0.5),
                               show_progress=False)
    return out


def check_cli(root):
    return subprocess.run([sys.executable, 'data_tools/check_dataset.py', str(root),
                           '--no-progress'], cwd=PROJECT, capture_output=True, text=True)


def test_check_benchmark_ok_then_broken(bench):
    report = check_dataset(bench, show_progress=False)
    assert report.num_errors == 0 and report.counts['boxes'] == 4
    assert check_cli(bench).returncode == 0
    image = sorted((bench / 'images' / 'det').iterdir())[0]
    image.write_bytes(image.read_bytes()[:200])
    ref = sorted((bench / 'references' / 'enh').iterdir())[0]
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(ref)
    report = check_dataset(bench, show_progress=False)
    errors = report.issues['error']
    assert any(image.name in e and 'cannot decode' in e for e in errors)
    assert any(ref.name in e and '5x5' in e for e in errors)
    proc = check_cli(bench)
    assert proc.returncode == 1 and image.name in proc.stdout


def test_check_dense_value_range(tmp_path):
    from mtlunder.data_converters import DenseWriter

    writer = DenseWriter(tmp_path / 'd', 'x', ['a', 'b', 'c'])
    writer.add('s', np.zeros((4, 5, 3), np.uint8), ['train'], seg=np.full((4, 5), 2),
               depth=np.ones((4, 5), np.float32))
    writer.finish()
    assert check_dataset(tmp_path / 'd', show_progress=False).num_errors == 0
    Image.fromarray(np.full((4, 5), 7, np.uint8)).save(tmp_path / 'd' / 'segmentation' / 's.png')
    np.save(tmp_path / 'd' / 'depth' / 's.npy', np.full((4, 5), np.nan, np.float32))
    errors = check_dataset(tmp_path / 'd', show_progress=False).issues['error']
    assert len(errors) == 2 and any('[7]' in e for e in errors)


def test_browse(bench, tmp_path):
    out = tmp_path / 'pics'
    report = browse_dataset(bench, out, num=10, show_progress=False)
    pictures = sorted(out.glob('*.png'))
    assert len(pictures) == report.counts['pictures'] == 7
    widths = {p.name.split('__')[0]: Image.open(p).size[0] for p in pictures}
    assert widths['det'] == 48 + 4 and widths['enh'] == 2 * (32 + 4)
