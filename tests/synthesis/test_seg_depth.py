"""Class maps and depth maps of the synthetic benchmark: they agree with the boxes and with
the range the formation model used, and the dataset reads their paths.

Box rule of the generator (``render_scene``), asserted below: an animal gets a box, iscrowd 0
or (visible fraction < 0.3) iscrowd 1, when it has at least 40 visible pixels (at 320x320,
scaled with the image area) and a box of at least 4 px a side; otherwise it gets no box and
its visible pixels are 255 (ignore) in the class map. A fully hidden animal has neither.
So: every box has its class on at least ``area`` pixels inside it, touching all four box
sides; every pixel of class c > 0 lies in a box of class c; per image and class, the box
areas add up to the class's pixel count.
"""
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtlunder.synthesis import generate_benchmark, render_sample
from mtlunder.synthesis import generator as gen
from mtlunder.synthesis.formation import degrade
from mtlunder.synthesis.scene import IGNORE_INDEX, render_scene

SIZE = (96, 128)
SEED = 11
#: documented range map limits (m): near 1.5-3 m minus animals up to 0.25 m above the
#: seabed; far at most 12 m
RANGE_LIMITS = (1.25, 12.0)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth_seg_depth') / 'ds'
    generate_benchmark(root, 12, size=SIZE, seed=SEED, val_fraction=0.25, verbose=False)
    entries = []
    for split in ('train', 'val'):
        coco = json.loads((root / 'annotations' / f'{split}.json').read_text())
        for entry in coco['images']:
            anns = [a for a in coco['annotations'] if a['image_id'] == entry['id']]
            entries.append((entry, anns))
    return root, sorted(entries, key=lambda e: e[0]['id'])


def _read_mask(root: Path, entry: dict) -> np.ndarray:
    return cv2.imread(str(root / 'segmentation' / entry['segmentation']), cv2.IMREAD_UNCHANGED)


def _read_depth(root: Path, entry: dict) -> np.ndarray:
    return np.load(root / 'depth' / entry['depth'])


def test_files_and_entries(dataset):
    root, entries = dataset
    assert len(entries) == 12
    assert sorted(p.name for p in root.iterdir()) == [
        '.mtlunder-dataset.json', 'annotations', 'depth', 'images', 'references', 'segmentation']
    for entry, _ in entries:
        stem = Path(entry['file_name']).stem
        assert entry['segmentation'] == f'{stem}.png' and entry['depth'] == f'{stem}.npy'
        assert entry['tasks'] == ['det', 'enh', 'seg', 'depth']
        mask, depth = _read_mask(root, entry), _read_depth(root, entry)
        assert mask.dtype == np.uint8 and mask.shape == SIZE
        assert depth.dtype == np.float32 and depth.shape == SIZE
        assert set(np.unique(mask).tolist()) <= {0, 1, 2, 3, 4, IGNORE_INDEX}


def test_masks_agree_with_boxes(dataset):
    root, entries = dataset
    n_boxes = n_crowd = 0
    for entry, anns in entries:
        mask = _read_mask(root, entry)
        covered = {c: np.zeros(SIZE, bool) for c in (1, 2, 3, 4)}
        for ann in anns:
            c = ann['category_id']
            x, y, w, h = ann['bbox']
            inside = mask[y:y + h, x:x + w] == c
            assert inside.sum() >= ann['area'] > 0, (entry['file_name'], ann)
            # the tight box of the object's visible pixels: its class touches every side
            assert inside[0].any() and inside[-1].any(), (entry['file_name'], ann)
            assert inside[:, 0].any() and inside[:, -1].any(), (entry['file_name'], ann)
            covered[c][y:y + h, x:x + w] = True
            n_boxes += 1
            n_crowd += ann['iscrowd']
        for c in (1, 2, 3, 4):
            pixels = mask == c
            assert not (pixels & ~covered[c]).any(), (entry['file_name'], c)
            assert pixels.sum() == sum(a['area'] for a in anns if a['category_id'] == c)
    assert n_boxes > 30  # the set is not trivially empty


def test_class_map_is_the_visible_instances_and_255_marks_unboxed_animals():
    seen_ignore = 0
    for i in range(20):
        scene = render_scene(np.random.default_rng([0, i]), (64, 80))
        category = {o['instance_id']: o['category_id'] for o in scene.objects}
        lut = np.zeros(max(category, default=0) + 1, np.uint8)
        for k, c in category.items():
            lut[k] = c
        boxed = scene.instances > 0
        assert np.array_equal(scene.class_map[boxed], lut[scene.instances[boxed]])
        assert set(np.unique(scene.class_map[~boxed]).tolist()) <= {0, IGNORE_INDEX}
        seen_ignore += int((scene.class_map == IGNORE_INDEX).sum())
    assert seen_ignore > 0  # (64, 80) seed 0 has too-small animals in images 7 and 14


def test_depth_is_finite_positive_and_matches_the_recorded_range(dataset):
    root, entries = dataset
    for entry, _ in entries:
        depth = _read_depth(root, entry)
        assert np.all(np.isfinite(depth)) and depth.min() > 0
        assert RANGE_LIMITS[0] <= depth.min() and depth.max() <= RANGE_LIMITS[1]
        assert entry['range_min'] == round(float(depth.min()), 3)
        assert entry['range_mean'] == round(float(depth.mean()), 3)
        assert entry['range_max'] == round(float(depth.max()), 3)


def test_depth_is_the_range_given_to_the_formation_model(dataset, monkeypatch):
    root, entries = dataset
    seen = []

    def spy(clean, range_m, *args, **kwargs):
        seen.append(np.array(range_m, copy=True))
        return degrade(clean, range_m, *args, **kwargs)

    monkeypatch.setattr(gen, 'degrade', spy)
    for index in (0, 5):
        render_sample(index, seed=SEED, size=SIZE)
        entry = entries[index][0]
        assert entry['id'] == index + 1
        saved = _read_depth(root, entry)
        assert saved.dtype == seen[-1].dtype and np.array_equal(saved, seen[-1])


def test_reference_and_depth_rerender_the_input(dataset):
    """Noise- and blur-free re-render from the files and the json's water type and depth
    below the surface: within sensor noise of the input (std <= 0.015 = 3.8 levels), and
    closer to it than with the depth map flattened, flipped or scaled by 0.9 or 1.1."""
    root, entries = dataset
    for entry, _ in entries:
        def read(folder, name):
            bgr = cv2.imread(str(root / folder / name))
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32)

        ref = read('references', entry['reference']) / 255
        img = read('images', entry['file_name'])
        depth = _read_depth(root, entry)

        def error(range_m):
            out, _ = degrade(ref, range_m, entry['water_type'], entry['depth_below_surface'])
            return float(np.abs(np.round(out * 255) - img).mean())

        err = error(depth)
        others = [error(d) for d in (np.full_like(depth, depth.mean()),
                                     np.ascontiguousarray(depth[::-1]), depth * 0.9,
                                     depth * 1.1)]
        assert err < 5.0 and err < min(others), (entry['file_name'], err, others)


def test_dataset_reads_the_label_paths(dataset, tmp_path):
    from mtlunder.registry import DATASETS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    src, entries = dataset
    root = tmp_path / 'ds'
    shutil.copytree(src, root)

    def build(**kwargs):
        return DATASETS.build(dict(type='UnderwaterMultiTaskDataset', data_root=str(root),
                                   ann_file='annotations/train.json', **kwargs))

    # the default prefixes, and a config's prefix dict without 'seg' / 'depth' keys
    for kwargs in (dict(check_files=True),
                   dict(data_prefix=dict(img='images/', ref='references/'))):
        ds = build(**kwargs)
        assert len(ds) == 9
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            stem = Path(info['img_path']).stem
            assert info['seg_path'] == str(root / 'segmentation' / f'{stem}.png')
            assert info['depth_path'] == str(root / 'depth' / f'{stem}.npy')
            assert info['seg_map_path'] == info['seg_path']
            assert info['tasks'] == ('det', 'enh', 'seg', 'depth')

    ann_file = root / 'annotations' / 'train.json'
    coco = json.loads(ann_file.read_text())
    first = coco['images'][0]
    # not labelled for seg / depth and no files: None
    first['tasks'] = ['det', 'enh']
    del first['segmentation'], first['depth']
    ann_file.write_text(json.dumps(coco))
    ds = build()
    info = next(i for i in map(ds.get_data_info, range(len(ds))) if i['img_id'] == first['id'])
    assert info['seg_path'] is info['depth_path'] is info['seg_map_path'] is None
    # labelled without the file: an error naming the annotation file and the image
    for task, key in (('seg', 'segmentation'), ('depth', 'depth')):
        first['tasks'] = ['det', 'enh', task]
        ann_file.write_text(json.dumps(coco))
        with pytest.raises(ValueError, match=rf"train.json.*{first['file_name']}.*"
                           rf"labelled for '{task}' but has no '{key}' file"):
            build()
    # check_files lists a missing depth map
    first['tasks'] = ['det', 'enh', 'seg', 'depth']
    first['segmentation'], first['depth'] = first['file_name'], 'missing.npy'
    ann_file.write_text(json.dumps(coco))
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        build(check_files=True)


def test_dense_loader_and_the_synth_config_pipeline_read_the_files(dataset):
    from mmengine.config import Config

    from mtlunder.registry import DATASETS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    root, entries = dataset
    ds = DATASETS.build(dict(type='UnderwaterMultiTaskDataset', data_root=str(root),
                             ann_file='annotations/val.json', test_mode=True,
                             pipeline=[dict(type='LoadImageFromFile'),
                                       dict(type='LoadDenseAnnotations')]))
    for i in range(len(ds)):
        results = ds[i]
        entry = next(e for e, _ in entries if e['id'] == results['img_id'])
        assert np.array_equal(results['gt_seg_map'], _read_mask(root, entry))
        depth = results['gt_depth']
        assert depth.dtype == np.float32 and np.array_equal(depth, _read_depth(root, entry))
    # the det+enh config's training pipeline still runs on the data (tasks in the metainfo)
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] / 'configs' / '_base_' /
                              'datasets' / 'underwater_synth.py'))
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=str(root)))
    packed = ds[0]
    assert packed['data_samples'].tasks == ('det', 'enh', 'seg', 'depth')
    assert tuple(packed['inputs'].shape[1:]) == (192, 256)
