"""The output policy of every data tool (mtlunder.data_converters.output): an output that
holds an input, or a foreign non-empty folder, is never replaced; an mtlunder output is
replaced atomically with ``overwrite``; stale temporary siblings are removed; Ctrl-C leaves
nothing and prints one line."""
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mtlunder.data_converters import (SourceSpec, browse_dataset, build_underwater_benchmark,
                                      build_voc_nyud_demo, convert_nyud_mat, convert_nyud_mt,
                                      convert_nyud_png, convert_pascal_context, convert_voc)
from mtlunder.data_converters.cli import run_tool

from .builders import make_voc, random_pascal_mt, voc_xml, write_image

PROJECT = Path(__file__).resolve().parents[2]
MARKER = '.mtlunder-dataset.json'
OBJECTS = [('echinus', 3, 4, 20, 30, 0)]


# ---------------------------------------------------------------- one tiny input per tool
def _voc_det(root):
    return make_voc(root, {f'{i}': (48, 40, OBJECTS) for i in range(3)})


def _voc_devkit(root):
    year = root / 'VOC2012'
    for sid in ('a', 'b'):
        write_image(year / 'JPEGImages' / f'{sid}.jpg', 8, 6)
        (year / 'Annotations').mkdir(parents=True, exist_ok=True)
        (year / 'Annotations' / f'{sid}.xml').write_text(
            voc_xml(f'{sid}.jpg', 8, 6, [('person', 2, 2, 5, 4, 0)]))
    (year / 'ImageSets' / 'Main').mkdir(parents=True)
    (year / 'ImageSets' / 'Main' / 'train.txt').write_text('a\nb\n')
    return root


def _nyud_mt(root):
    for sid in ('0001', '0002'):
        write_image(root / 'images' / f'{sid}.jpg', 8, 6)
        (root / 'depth').mkdir(exist_ok=True)
        np.save(root / 'depth' / f'{sid}.npy', np.full((6, 8), 2.5, np.float32))
    (root / 'gt_sets').mkdir()
    (root / 'gt_sets' / 'train.txt').write_text('0001\n')
    (root / 'gt_sets' / 'val.txt').write_text('0002\n')
    return root


def _nyud_png(root):
    for sid in ('000001', '000002'):
        write_image(root / f'{sid}.png', 8, 6, fmt='PNG')
        Image.fromarray(np.full((6, 8), 5000 * 2, np.uint16)).save(
            root / f'depth_gt_{sid}.png')
    return root


def _nyud_mat(root):
    import h5py

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    with h5py.File(root / 'nyu.mat', 'w') as f:  # MATLAB v7.3 stores the axes reversed
        f['images'] = rng.integers(0, 256, (2, 3, 8, 6), dtype=np.uint8)
        f['depths'] = rng.uniform(0.5, 9.0, (2, 8, 6)).astype(np.float32)
        f['labels40'] = rng.integers(0, 41, (2, 8, 6)).astype(np.uint16)
    return root / 'nyu.mat'


def _benchmark(root):
    det = _voc_det(root / 'det')
    build_underwater_benchmark(root / 'bench', [SourceSpec('d', 'voc', det)], split=(0.5, 0.5),
                               show_progress=False)
    return root / 'bench'


def _shared(root):
    """A ../shared/data look-alike whose sample folders are links to the real ones."""
    from tests.conftest import SHARED_DATA

    folders = ('voc_samples', 'nyud_samples', 'nyud_rgbd_metric')
    if not all((SHARED_DATA / f).is_dir() for f in folders):
        pytest.skip(f'real samples not found at {SHARED_DATA} (a user checkout has no '
                    '../shared/data)')
    root.mkdir(parents=True)
    for folder in folders:
        (root / folder).symlink_to((SHARED_DATA / folder).resolve())
    return root


#: tool -> (input builder, run(input, out, overwrite))
TOOLS = {
    'build_underwater_benchmark': (_voc_det, lambda src, out, ow: build_underwater_benchmark(
        out, [SourceSpec('d', 'voc', src)], split=(0.5, 0.5), overwrite=ow,
        show_progress=False)),
    'convert_voc': (_voc_devkit, lambda src, out, ow: convert_voc(src, out, ow, False)),
    'convert_pascal_context': (
        lambda root: random_pascal_mt(root, num_train=2, num_val=1, size=(16, 16)),
        lambda src, out, ow: convert_pascal_context(src, out, overwrite=ow,
                                                    show_progress=False)),
    'convert_nyud_mt': (_nyud_mt, lambda src, out, ow: convert_nyud_mt(src, out, ow, False)),
    'convert_nyud_png': (_nyud_png, lambda src, out, ow: convert_nyud_png(
        src, out, overwrite=ow, show_progress=False)),
    'convert_nyud_mat': (_nyud_mat, lambda src, out, ow: convert_nyud_mat(
        src, out, overwrite=ow, show_progress=False)),
    'browse_dataset': (_benchmark, lambda src, out, ow: browse_dataset(
        src, out, num=2, overwrite=ow, show_progress=False)),
    'build_voc_nyud_demo': (_shared, lambda src, out, ow: build_voc_nyud_demo(
        src, out, ow, show_progress=False)),
}


def _tree(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob('*'))


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_output_holding_an_input_is_refused(tool, tmp_path):
    """The issue's slip: the output is the folder the raw data lives in (here one that
    even looks like an mtlunder output), or the input itself."""
    make, run = TOOLS[tool]
    work = tmp_path / 'data'
    src = make(work / 'raw' / 'src')
    (work / 'raw' / 'notes.txt').write_text('notes')
    (work / MARKER).write_text(json.dumps(dict(tool='old')))
    before = _tree(work)
    with pytest.raises(ValueError, match=r'contains the input .*src'):
        run(src, work, True)
    with pytest.raises(ValueError, match='over its own input'):
        run(src, src, True)
    assert _tree(work) == before and (work / 'raw' / 'notes.txt').read_text() == 'notes'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data']


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_foreign_folder_is_not_replaced_and_own_output_is(tool, tmp_path):
    make, run = TOOLS[tool]
    src = make(tmp_path / 'src')
    foreign = tmp_path / 'mine'
    foreign.mkdir()
    (foreign / 'thesis.tex').write_text('years of work')
    with pytest.raises(ValueError, match=r'mine: refusing to replace it: .*not a dataset '
                                         'written by an mtlunder tool'):
        run(src, foreign, True)
    assert _tree(foreign) == ['thesis.tex']

    out = tmp_path / 'out'
    run(src, out, False)
    assert json.loads((out / MARKER).read_text())['tool'] == \
        ('convert_nyud' if tool.startswith('convert_nyud') else tool)
    first = _tree(out)
    with pytest.raises(FileExistsError, match='--overwrite'):
        run(src, out, False)
    (out / 'stale_extra.txt').write_text('from the old output')
    run(src, out, True)  # a legitimate re-run replaces the old output as a whole
    assert _tree(out) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ['mine', 'out', 'src']


def test_a_symlink_into_the_output_is_resolved(tmp_path):
    src = _voc_det(tmp_path / 'data' / 'raw' / 'ruie')
    (tmp_path / 'link').symlink_to(src)
    with pytest.raises(ValueError, match='contains the input'):
        build_underwater_benchmark(tmp_path / 'data', [SourceSpec('d', 'voc', tmp_path / 'link')],
                                   overwrite=True, show_progress=False)
    assert (src / 'Annotations' / '0.xml').is_file()


def test_empty_folder_and_file_outputs(tmp_path):
    src = _voc_det(tmp_path / 'src')
    (tmp_path / 'empty').mkdir()
    build_underwater_benchmark(tmp_path / 'empty', [SourceSpec('d', 'voc', src)],
                               overwrite=True, show_progress=False)
    assert (tmp_path / 'empty' / 'build_report.json').is_file()
    (tmp_path / 'file').write_text('x')
    with pytest.raises(ValueError, match='not a folder'):
        build_underwater_benchmark(tmp_path / 'file', [SourceSpec('d', 'voc', src)],
                                   overwrite=True, show_progress=False)
    assert (tmp_path / 'file').read_text() == 'x'


# ---------------------------------------------------------------- convert_detection CLI
def _convert(*args):
    return subprocess.run([sys.executable, 'data_tools/convert_detection.py', *map(str, args),
                           '--no-progress'], cwd=PROJECT, capture_output=True, text=True,
                          timeout=120)


def test_convert_detection_cli_policy(tmp_path):
    src = _voc_det(tmp_path / 'data' / 'raw' / 'ruie')
    (tmp_path / 'data' / 'notes.txt').write_text('notes')
    before = _tree(tmp_path / 'data')
    proc = _convert('voc', src, '--to', 'yolo', '--out', tmp_path / 'data', '--overwrite')
    assert proc.returncode == 2 and 'contains the input' in proc.stderr, proc.stderr
    assert _tree(tmp_path / 'data') == before
    proc = _convert('voc', src, '--out', src / 'Annotations' / '0.xml', '--overwrite')
    assert proc.returncode == 2 and 'a file inside the input' in proc.stderr, proc.stderr
    assert '<annotation>' in (src / 'Annotations' / '0.xml').read_text()
    ann = tmp_path / 'ann.json'
    assert _convert('voc', src, '--out', ann).returncode == 0
    coco = ann.read_text()
    proc = _convert('coco', ann, '--image-root', src, '--out', ann, '--overwrite')
    assert proc.returncode == 2 and 'over its own input' in proc.stderr, proc.stderr
    assert ann.read_text() == coco

    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'a.txt').write_text('keep')
    proc = _convert('voc', src, '--to', 'yolo', '--out', foreign, '--overwrite')
    assert proc.returncode == 2 and 'not a dataset written by an mtlunder tool' in proc.stderr
    assert _tree(foreign) == ['a.txt']

    out = tmp_path / 'yolo'
    assert _convert('voc', src, '--to', 'yolo', '--out', out).returncode == 0
    assert json.loads((out / MARKER).read_text())['tool'] == 'convert_detection'
    first = _tree(out)
    proc = _convert('voc', src, '--to', 'yolo', '--out', out, '--overwrite')
    assert proc.returncode == 0, proc.stderr
    assert _tree(out) == first and (out / 'data.yaml').is_file()


# ---------------------------------------------------------------- kill -9 and Ctrl-C
KILL_DURING_BUILD = """
import os, signal, sys
from pathlib import Path
import mtlunder.data_converters.underwater_benchmark as benchmark
from mtlunder.data_converters import SourceSpec, build_underwater_benchmark

def killed(src, dst, root):
    dst.parent.mkdir(parents=True, exist_ok=True)
    (dst.parent / 'half.bin').write_bytes(bytes(300000))
    os.kill(os.getpid(), signal.SIGKILL)

benchmark._write_image = killed
build_underwater_benchmark(Path(sys.argv[2]), [SourceSpec('d', 'voc', Path(sys.argv[1]))],
                           show_progress=False)
"""


def test_stale_temporary_folder_of_a_killed_build_is_removed(tmp_path, caplog):
    src = _voc_det(tmp_path / 'src')
    out = tmp_path / 'out'
    proc = subprocess.run([sys.executable, '-c', KILL_DURING_BUILD, str(src), str(out)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    stale = [p for p in tmp_path.iterdir() if p.name.startswith('.out.tmp-')]
    assert len(stale) == 1 and not out.exists()
    # a temporary folder of a build still running (this process) is left alone
    running = tmp_path / '.out.tmp-running'
    running.mkdir()
    (running / MARKER).write_text(json.dumps(dict(tool='t', pid=os.getpid(),
                                                  host=os.uname().nodename)))
    # the handler on the module's logger itself: the records do not depend on propagation
    output_logger = logging.getLogger('mtlunder.data_converters.output')
    output_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger=output_logger.name):
            build_underwater_benchmark(out, [SourceSpec('d', 'voc', src)], show_progress=False)
    finally:
        output_logger.removeHandler(caplog.handler)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['.out.tmp-running', 'out', 'src']
    removed = sorted({r.getMessage() for r in caplog.records if 'removed' in r.getMessage()})
    assert len(removed) == 1 and stale[0].name in removed[0] and 'MB' in removed[0]
    assert any('.out.tmp-running' in r.getMessage() and 'left alone' in r.getMessage()
               for r in caplog.records)


def test_ctrl_c_prints_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import mtlunder.data_converters.underwater_benchmark as benchmark

    src = _voc_det(tmp_path / 'src')
    out = tmp_path / 'out'

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(benchmark, '_write_image', ctrl_c)
    build = lambda: build_underwater_benchmark(out, [SourceSpec('d', 'voc', src)],  # noqa
                                               show_progress=False)
    assert run_tool(build) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'interrupted while writing {out}; nothing was written ({out} was not '
                   'created)']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['src']
