"""The benchmark writer: determinism, COCO fields consistent with the files, atomic writes."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtlunder.synthesis import JERLOV_TYPES, generate_benchmark, render_sample
from mtlunder.synthesis import generator as gen

SIZE = (64, 80)


def _files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*'))
            if p.is_file()}


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth') / 'ds'
    summary = generate_benchmark(root, 10, size=SIZE, seed=3, val_fraction=0.3, verbose=False)
    return root, summary


def test_same_seed_gives_identical_bytes_whatever_the_worker_count(dataset, tmp_path):
    root, _ = dataset
    again = tmp_path / 'again'
    generate_benchmark(again, 10, size=SIZE, seed=3, val_fraction=0.3, workers=2,
                       verbose=False)
    assert _files(again) == _files(root)
    other = tmp_path / 'other'
    generate_benchmark(other, 10, size=SIZE, seed=4, val_fraction=0.3, verbose=False)
    a, b = _files(root), _files(other)
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a if k.startswith('images/'))


def test_files_hold_what_render_sample_returns(dataset):
    root, _ = dataset
    sample = render_sample(4, seed=3, size=SIZE)
    ref = cv2.cvtColor(cv2.imread(str(root / 'references' / '000004.png')), cv2.COLOR_BGR2RGB)
    img = cv2.cvtColor(cv2.imread(str(root / 'images' / '000004.png')), cv2.COLOR_BGR2RGB)
    assert np.array_equal(ref, sample['clean']) and np.array_equal(img, sample['degraded'])


def test_coco_json_fields_are_present_and_consistent_with_the_files(dataset):
    root, summary = dataset
    splits = {s: json.loads((root / 'annotations' / f'{s}.json').read_text())
              for s in ('train', 'val')}
    assert {s: len(c['images']) for s, c in splits.items()} == {'train': 7, 'val': 3}
    assert summary['images'] == {'train': 7, 'val': 3}
    image_ids = [i['id'] for c in splits.values() for i in c['images']]
    ann_ids = [a['id'] for c in splits.values() for a in c['annotations']]
    assert sorted(image_ids) == list(range(1, 11))
    assert len(set(ann_ids)) == len(ann_ids)
    psnrs = []
    for coco in splits.values():
        assert [c['name'] for c in coco['categories']] == ['holothurian', 'echinus', 'scallop',
                                                           'starfish']
        assert [c['id'] for c in coco['categories']] == [1, 2, 3, 4]
        ids = {i['id'] for i in coco['images']}
        for entry in coco['images']:
            img = cv2.imread(str(root / 'images' / entry['file_name']))
            ref = cv2.imread(str(root / 'references' / entry['reference']))
            assert img is not None and ref is not None
            assert img.shape == ref.shape == (entry['height'], entry['width'], 3)
            assert (entry['height'], entry['width']) == SIZE
            assert entry['tasks'] == ['det', 'enh', 'seg', 'depth']
            assert entry['water_type'] in JERLOV_TYPES
            assert 0 < entry['range_min'] <= entry['range_mean'] <= entry['range_max'] <= 12
            assert 3.0 <= entry['depth_below_surface'] <= 5.0
            psnrs.append(gen.psnr(img, ref))
        for ann in coco['annotations']:
            assert ann['image_id'] in ids
            x, y, w, h = ann['bbox']
            assert 0 <= x and 0 <= y and x + w <= SIZE[1] and y + h <= SIZE[0] and w > 0 < h
            assert 0 < ann['area'] <= w * h
            assert ann['category_id'] in (1, 2, 3, 4) and ann['iscrowd'] in (0, 1)
    assert summary['mean_psnr'] == pytest.approx(np.mean(psnrs))
    assert sum(summary['boxes'].values()) + summary['ignored'] == len(ann_ids)


def test_pycocotools_reads_the_annotations(dataset):
    from pycocotools.coco import COCO

    root, _ = dataset
    coco = COCO(str(root / 'annotations' / 'train.json'))
    assert len(coco.getImgIds()) == 7
    assert coco.getCatIds(catNms=['starfish']) == [4]


def test_psnr_matches_its_definition():
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 10, np.uint8)
    assert gen.psnr(a, b) == pytest.approx(10 * np.log10(255**2 / 100))
    assert gen.psnr(a, a) == float('inf')


def test_visible_range_is_where_the_clearest_channel_drops_to_the_threshold():
    r = gen.visible_range('3C', min_transmission=0.45, cap=100.0)
    assert max(JERLOV_TYPES['3C'])**r == pytest.approx(0.45)
    assert gen.visible_range('I') == 12.0


def test_a_failure_leaves_nothing_behind(tmp_path, monkeypatch):
    real = gen._make_sample

    def failing(job):
        if job[0] == 2:
            raise RuntimeError('boom')
        return real(job)

    monkeypatch.setattr(gen, '_make_sample', failing)
    with pytest.raises(RuntimeError, match='boom'):
        generate_benchmark(tmp_path / 'ds', 5, size=(32, 32), verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_existing_dataset_is_kept_unless_overwrite(tmp_path):
    root = tmp_path / 'ds'
    generate_benchmark(root, 3, size=(32, 32), seed=0, verbose=False)
    before = _files(root)
    with pytest.raises(FileExistsError, match='overwrite'):
        generate_benchmark(root, 3, size=(32, 32), seed=1, verbose=False)
    assert _files(root) == before
    generate_benchmark(root, 4, size=(32, 32), seed=1, overwrite=True, verbose=False)
    after = _files(root)
    assert after != before and len([k for k in after if k.startswith('images/')]) == 4
    assert [p.name for p in tmp_path.iterdir()] == ['ds']
