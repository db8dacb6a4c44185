import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mtlunder.data_converters import (DataError, SourceSpec, build_underwater_benchmark,
                                      check_dataset, read_benchmark, split_of)
from mtlunder.data_converters.io import read_rgb

from .builders import make_pairs, make_voc

CLASSES = ['holothurian', 'echinus', 'scallop', 'starfish']


@pytest.fixture
def sources(tmp_path):
    objects = [('urchin', 3, 4, 20, 30, 0), ('scallop', 10, 10, 30, 20, 1)]
    voc = make_voc(tmp_path / 'det', {f'{i:03d}': (48, 40, objects) for i in range(12)})
    pairs = make_pairs(tmp_path / 'enh', 'input', 'reference',
                       {f'{i}': ((32, 24), (32, 24)) for i in range(10)})
    return [SourceSpec('det', 'voc', voc)], [SourceSpec('enh', 'generic', pairs)]


def build(out, sources, **kw):
    det, enh = sources
    return build_underwater_benchmark(out, det, enh, class_map={'urchin': 'echinus'},
                                      show_progress=False, **kw)


def test_split_of_is_deterministic_and_balanced():
    keys = [f'img{i}' for i in range(4000)]
    first = [split_of('src', k, (0.8, 0.1, 0.1)) for k in keys]
    assert first == [split_of('src', k, (0.8, 0.1, 0.1)) for k in keys]
    frac = Counter(first)
    assert abs(frac['train'] / 4000 - 0.8) < 0.03 and abs(frac['val'] / 4000 - 0.1) < 0.03
    assert [split_of('src', k, (0.5, 0.5)) for k in keys[:50]] != \
        [split_of('other', k, (0.5, 0.5)) for k in keys[:50]]
    with pytest.raises(ValueError):
        split_of('s', 'k', (0.8, 0.3))


def test_build_is_deterministic_and_honest(tmp_path, sources):
    build(tmp_path / 'b1', sources)
    build(tmp_path / 'b2', sources)
    for name in ('train', 'val', 'test'):
        a = (tmp_path / 'b1' / 'annotations' / f'{name}.json').read_text()
        assert a == (tmp_path / 'b2' / 'annotations' / f'{name}.json').read_text()
    images, anns, cats = read_benchmark(tmp_path / 'b1')
    assert [c['name'] for c in cats] == CLASSES
    assert len(images) == 22
    for img in images:
        assert img['split'] == split_of(img['source'], Path(img['file_name']).relative_to(
            img['source']).with_suffix('').as_posix(), (0.8, 0.1, 0.1))
        if img['source'] == 'det':
            assert img['tasks'] == ['det'] and img['reference'] is None
            assert len(anns[img['id']]) == 2
        else:
            assert img['tasks'] == ['enh'] and not anns.get(img['id'])
            ref = read_rgb(tmp_path / 'b1' / 'references' / img['reference'])
            src = read_rgb(sources[1][0].path / 'reference' / Path(img['reference']).name)
            assert np.array_equal(ref, src)  # PNG reference copied losslessly
    echinus = [a for lst in anns.values() for a in lst if a['category_id'] == 2]
    assert len(echinus) == 12 and all(a['bbox'] == [2, 3, 18, 27] for a in echinus)
    assert check_dataset(tmp_path / 'b1', show_progress=False).num_errors == 0


def test_atomic_output_leaves_nothing_on_failure(tmp_path, sources, monkeypatch):
    det, enh = sources
    with pytest.raises(DataError, match='unknown class'):
        build_underwater_benchmark(tmp_path / 'out', det, enh, show_progress=False)
    import mtlunder.data_converters.underwater_benchmark as benchmark

    def broken(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(benchmark, '_write_reference', broken)
    with pytest.raises(OSError, match='disk full'):
        build(tmp_path / 'out', sources)
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ['det', 'enh']


def test_existing_output_needs_overwrite(tmp_path, sources):
    build(tmp_path / 'out', sources, split=(0.5, 0.5))
    assert sorted(p.name for p in (tmp_path / 'out' / 'annotations').iterdir()) == \
        ['train.json', 'val.json']
    with pytest.raises(FileExistsError, match='--overwrite'):
        build(tmp_path / 'out', sources)
    build(tmp_path / 'out', sources, overwrite=True)
    assert (tmp_path / 'out' / 'annotations' / 'test.json').is_file()


def test_real_sources_with_rgbd(shared_data, tmp_path):
    from mtlunder.synthesis.formation import JERLOV_TYPES

    report = build_underwater_benchmark(
        tmp_path / 'bench',
        det_sources=[SourceSpec('ruie', 'voc', shared_data / 'ruie_utts')],
        enh_sources=[SourceSpec('euvp', 'generic', shared_data / 'euvp_pairs')],
        rgbd_sources=[SourceSpec('nyud', 'rgbd', shared_data / 'nyud_rgbd_metric')],
        class_map={'urchin': 'echinus'}, show_progress=False)
    images, anns, _ = read_benchmark(tmp_path / 'bench')
    per_source = Counter(i['source'] for i in images)
    assert per_source == Counter(ruie=299, euvp=23, nyud=2)
    assert sum(len(v) for v in anns.values()) == 1361
    assert any('0316' in m for m in report.issues['missing_annotation'])
    assert 'ruie' in report.tables and 'echinus' in report.tables
    nyud = {i['file_name']: i for i in images if i['source'] == 'nyud'}
    entry = nyud['nyud/img42.png']
    depth = np.loadtxt(shared_data / 'nyud_rgbd_metric' / 'depth42.csv', delimiter=',')
    assert entry['range_max'] == pytest.approx(depth.max(), rel=1e-5)
    # the input obeys I = J * N^D * N^d + B * (1 - N^d), B = clip(1.5 N^D) (METHODS.md 4)
    clean = read_rgb(tmp_path / 'bench' / 'references' / entry['reference']) / 255.0
    degraded = read_rgb(tmp_path / 'bench' / 'images' / entry['file_name']) / 255.0
    n = np.asarray(JERLOV_TYPES[entry['water_type']])
    below = entry['depth_below_surface']
    t = n ** depth[..., None]
    expected = clean * n ** below * t + np.clip(1.5 * n ** below, 0, 1) * (1 - t)
    assert np.abs(expected - degraded).max() <= 1.0 / 255 + 1e-6
    assert check_dataset(tmp_path / 'bench', show_progress=False).num_errors == 0


def test_synthetic_source(tmp_path):
    build_underwater_benchmark(tmp_path / 'syn', synthetic=3, synthetic_size=64,
                               split=(0.5, 0.5), show_progress=False)
    images, anns, cats = read_benchmark(tmp_path / 'syn')
    assert len(images) == 3 and all(i['source'] == 'synthetic' for i in images)
    assert all(set(i['tasks']) == {'det', 'enh'} and i['reference'] for i in images)
    assert not (tmp_path / 'syn' / '.synthetic').exists()
    assert check_dataset(tmp_path / 'syn', show_progress=False).num_errors == 0
    report = json.loads((tmp_path / 'syn' / 'build_report.json').read_text())
    assert report['synthetic'] == 3


def test_cli(tmp_path, sources):
    det, enh = sources
    project = Path(__file__).resolve().parents[2]
    args = [sys.executable, 'data_tools/build_underwater_benchmark.py', str(tmp_path / 'cli'),
            '--det', f'd:voc:{det[0].path}', '--enh', f'e:auto:{enh[0].path}', '--no-progress']
    proc = subprocess.run(args, cwd=project, capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown class 'urchin'" in proc.stderr
    assert not (tmp_path / 'cli').exists()
    proc = subprocess.run(args + ['--map', 'urchin=echinus', '--split', '0.5', '0.5'],
                          cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    table = [line.split() for line in proc.stdout.splitlines()]
    total = next(row for row in table if row and row[0] == 'total')
    assert total[3] == '22' and int(total[1]) + int(total[2]) == 22


def test_rgbd_layouts_and_bad_depth(tmp_path):
    from mtlunder.data_converters import find_rgbd_frames, read_depth_m

    from .builders import write_image

    write_image(tmp_path / 'metric' / 'img7.jpg', 5, 4)
    np.savetxt(tmp_path / 'metric' / 'depth7.csv', np.full((4, 5), 2.0), delimiter=',')
    write_image(tmp_path / 'png' / '000009.png', 5, 4)
    Image.fromarray(np.full((4, 5), 5000 * 3, np.uint16)).save(
        tmp_path / 'png' / 'depth_gt_000009.png')
    write_image(tmp_path / 'mt' / 'images' / '0001.jpg', 5, 4)
    (tmp_path / 'mt' / 'depth').mkdir()
    np.save(tmp_path / 'mt' / 'depth' / '0001.npy', np.full((4, 5), 4.0, np.float32))
    frames = find_rgbd_frames(tmp_path)
    assert [f.key for f in frames] == ['metric/img7', 'mt/0001', 'png/000009']
    assert [float(read_depth_m(f.depth_path).mean()) for f in frames] == [2.0, 4.0, 3.0]
    bad = np.full((4, 5), 2.0)
    bad[1, 1] = np.nan
    np.savetxt(tmp_path / 'metric' / 'depth7.csv', bad, delimiter=',')
    with pytest.raises(DataError, match=r'depth7\.csv: depth has NaN'):
        read_depth_m(frames[0].depth_path)


def test_image_whose_only_box_is_invalid_loses_det(tmp_path):
    """A VOC xml whose only box has xmin > xmax: the image is excluded (or, with
    keep_unlabelled, kept without ``det``), never a ``det`` image with zero boxes; the build
    report counts it."""
    voc = make_voc(tmp_path / 'det', {'bad': (48, 40, [('echinus', 30, 4, 20, 30, 0)]),
                                      'ok': (48, 40, [('echinus', 3, 4, 20, 30, 0)])})
    for keep, out in ((False, tmp_path / 'b1'), (True, tmp_path / 'b2')):
        report = build_underwater_benchmark(out, [SourceSpec('d', 'voc', voc)],
                                            split=(0.5, 0.5), keep_unlabelled=keep,
                                            show_progress=False)
        images, anns, _ = read_benchmark(out)
        tasks = {Path(i['file_name']).stem: i['tasks'] for i in images}
        assert tasks == ({'ok': ['det']} if not keep else {'ok': ['det'], 'bad': []})
        assert 'bad.xml' in report.issues['no_valid_box'][0]
        saved = json.loads((out / 'build_report.json').read_text())
        assert saved['counts']['images whose every box was invalid (no det label) (d)'] == 1
