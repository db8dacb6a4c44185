"""DenseMultiTaskDataset and LoadDenseAnnotations on the dense multi-task format."""
import json

import numpy as np
import pytest
import torch

H, W = 12, 16
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadDenseAnnotations')]
PACK = [dict(type='PackMultiTaskInputs')]
#: NYUD-v2 literature training pipeline: scale [0.5, 2.0], crop 425 x 560 (h x w), flip.
NYUD_TRAIN = LOAD + [
    dict(type='RandomResize', scale=(640, 480), ratio_range=(0.5, 2.0), keep_ratio=True,
         resize_type='PairedResize'),
    dict(type='PairedPad', size=(560, 425)),
    dict(type='PairedRandomCrop', crop_size=(560, 425)),
    dict(type='PairedRandomFlip', prob=0.5),
] + PACK


def build_dataset(root, **kwargs):
    from mtlunder.registry import DATASETS

    return DATASETS.build(dict(type='DenseMultiTaskDataset', data_root=str(root), **kwargs))


@pytest.fixture
def dense_root(tmp_path):
    """Three 12x16 samples written by the project's DenseWriter: ``a`` has every NYUD
    label, ``b`` no depth file, ``c`` (val) only segmentation."""
    from mtlunder.data_converters import DenseWriter

    rng = np.random.default_rng(0)
    root = tmp_path / 'dense'
    writer = DenseWriter(root, 'tiny', seg_classes=['wall', 'floor', 'chair'])
    labels = {}
    for sid, split in (('a', 'train'), ('b', 'train'), ('c', 'val')):
        seg = rng.integers(0, 3, (H, W)).astype(np.uint8)
        seg[:2] = 255
        normal = rng.normal(size=(H, W, 3)).astype(np.float32)
        normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
        normal[0, 0] = 0
        labels[sid] = dict(seg=seg, depth=rng.uniform(0.5, 9, (H, W)).astype(np.float32),
                           normal=normal, edge=rng.integers(0, 2, (H, W)).astype(np.uint8))
        if sid == 'b':
            del labels[sid]['depth']
        if sid == 'c':
            labels[sid] = dict(seg=seg)
        image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        writer.add(sid, image, [split], **labels[sid])
        labels[sid]['image'] = image
    writer.finish()
    return root, labels


def test_data_infos_list_the_label_files_that_exist(dense_root):
    root, _ = dense_root
    dataset = build_dataset(root, split='train')
    assert len(dataset) == 2
    assert dataset.metainfo['classes'] == ('wall', 'floor', 'chair')
    assert dataset.metainfo['tasks'] == ('seg', 'depth', 'normal', 'edge')
    a, b = dataset.get_data_info(0), dataset.get_data_info(1)
    assert a['img_id'] == 'a' and a['img_path'] == str(root / 'images' / 'a.png')
    assert (a['height'], a['width']) == (H, W)
    assert a['tasks'] == ('seg', 'depth', 'normal', 'edge')
    assert a['seg_path'] == str(root / 'segmentation' / 'a.png')
    assert a['depth_path'] == str(root / 'depth' / 'a.npy')
    assert a['normal_path'] == str(root / 'normals' / 'a.npy')
    assert a['edge_path'] == str(root / 'edges' / 'a.png')
    assert b['tasks'] == ('seg', 'normal', 'edge') and b['depth_path'] is None
    val = build_dataset(root, split='val', tasks=['seg'])
    assert len(val) == 1 and val.get_data_info(0)['tasks'] == ('seg', )
    assert 'depth_path' not in val.get_data_info(0)


def test_pipeline_loads_and_packs_every_label_exactly(dense_root):
    root, labels = dense_root
    dataset = build_dataset(root, split='train', pipeline=LOAD + PACK)
    for i, sid in enumerate('ab'):
        out = dataset[i]
        sample, want = out['data_samples'], labels[sid]
        assert torch.equal(out['inputs'], torch.from_numpy(want['image']).permute(2, 0, 1)
                           .flip(0))  # LoadImageFromFile gives BGR
        assert sample.gt_sem_seg.sem_seg.dtype == torch.long
        assert torch.equal(sample.gt_sem_seg.data[0], torch.from_numpy(want['seg']).long())
        assert torch.equal(sample.gt_edge.data[0], torch.from_numpy(want['edge']).long())
        assert torch.equal(sample.gt_normal.data,
                           torch.from_numpy(want['normal']).permute(2, 0, 1))
        assert sample.tasks == dataset.get_data_info(i)['tasks']
    assert torch.equal(dataset[0]['data_samples'].gt_depth.data[0],
                       torch.from_numpy(labels['a']['depth']))
    assert 'gt_depth' not in dataset[1]['data_samples']  # b is not labelled for depth
    raw = build_dataset(root, split='train', pipeline=LOAD)[0]
    assert raw['gt_seg_map'].dtype == raw['gt_edge'].dtype == np.uint8
    assert raw['gt_depth'].dtype == raw['gt_normal'].dtype == np.float32
    assert raw['gt_normal'].shape == (H, W, 3) and raw['gt_depth'].shape == (H, W)


def test_layout_falls_back_to_the_converter_folders(dense_root):
    root, _ = dense_root
    meta = json.loads((root / 'meta.json').read_text())
    del meta['layout']
    (root / 'meta.json').write_text(json.dumps(meta))
    info = build_dataset(root, split='train').get_data_info(1)
    assert info['normal_path'] == str(root / 'normals' / 'b.npy')
    assert info['tasks'] == ('seg', 'normal', 'edge')


def _drop(path):
    path.unlink()


def _append(path, text):
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize('change, kwargs, error, words', [
    (lambda r: _drop(r / 'meta.json'), {}, FileNotFoundError,
     ['meta.json', 'convert_nyud.py', 'convert_pascal_context.py']),
    (lambda r: None, dict(split='test'), FileNotFoundError,
     ['splits/test.txt', "['train', 'val']", 'convert_nyud.py']),
    (lambda r: _append(r / 'splits' / 'train.txt', 'a\n'), {}, ValueError,
     ['train.txt', "'a' is listed twice", 'entries 1 and 3']),
    (lambda r: _drop(r / 'images' / 'b.png'), {}, FileNotFoundError,
     ['images/b.(jpg|png)', "'b'", 'train.txt']),
    (lambda r: None, dict(tasks=['sal']), ValueError, ["['sal']", 'meta.json']),
    (lambda r: None, dict(tasks=['segmentation']), ValueError, ["['segmentation']"]),
    (lambda r: (r / 'meta.json').write_text('{'), {}, ValueError, ['meta.json', 'JSON']),
])
def test_dataset_errors_name_the_file(dense_root, change, kwargs, error, words):
    root, _ = dense_root
    change(root)
    with pytest.raises(error) as err:
        build_dataset(root, **{'split': 'train', **kwargs})
    for word in words:
        assert word in str(err.value)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _rgb_seg(path):
    from PIL import Image

    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(path)


@pytest.mark.parametrize('file, change, error, words', [
    ('segmentation/a.png', _truncate, OSError, ['segmentation/a.png', 'truncated']),
    ('depth/a.npy', _truncate, OSError, ['depth/a.npy', 'truncated']),
    ('normals/a.npy', lambda p: np.save(p, np.zeros((H, W), np.float32)), ValueError,
     ['normals/a.npy', '[H, W, 3]']),
    ('depth/a.npy', lambda p: np.save(p, np.zeros((H, W + 1), np.float32)), ValueError,
     ['depth/a.npy', '17x12', 'images/a.png', '16x12']),
    ('segmentation/a.png', _rgb_seg, ValueError, ['segmentation/a.png', '(12, 16, 3)']),
    ('edges/a.png', _drop, FileNotFoundError, ['edges/a.png']),
])
def test_label_errors_name_the_file(dense_root, file, change, error, words):
    root, _ = dense_root
    dataset = build_dataset(root, split='train', pipeline=LOAD)
    change(root / file)
    with pytest.raises(error) as err:
        dataset.prepare_data(0)
    for word in words:
        assert word in str(err.value)


def test_a_task_without_its_file_is_refused():
    from mmcv.transforms import Compose

    with pytest.raises(ValueError, match=r"in.png is labelled for 'depth' but has no depth_path"):
        Compose([dict(type='LoadDenseAnnotations')])(
            dict(img_path='in.png', tasks=('depth', ), depth_path=None))


@pytest.fixture(scope='module')
def nyud_dense(shared_data, tmp_path_factory):
    """The shared NYUD-v2 refinenet frames through the project's converter (as
    tests/data_converters/test_dense.py runs it): 000433 with seg, depth and normals, 000464
    without normals."""
    from mtlunder.data_converters import convert_nyud_png

    out = tmp_path_factory.mktemp('nyud') / 'nyud'
    convert_nyud_png(shared_data / 'nyud_samples', out, show_progress=False)
    return out


def test_real_nyud_samples(nyud_dense):
    dataset = build_dataset(nyud_dense, split='val', pipeline=LOAD + PACK)
    assert len(dataset.metainfo['classes']) == 40 and dataset.metainfo['classes'][0] == 'wall'
    infos = {dataset.get_data_info(i)['img_id']: dataset.get_data_info(i) for i in range(2)}
    assert infos['000433']['tasks'] == ('seg', 'depth', 'normal')
    assert infos['000464']['tasks'] == ('seg', 'depth')
    assert infos['000464']['normal_path'] is None
    assert (infos['000433']['height'], infos['000433']['width']) == (480, 640)
    sample = dataset[0]['data_samples']
    depth = np.load(nyud_dense / 'depth' / f"{sample.img_id}.npy")
    assert torch.equal(sample.gt_depth.data[0], torch.from_numpy(depth))
    assert sample.gt_sem_seg.sem_seg.shape == (1, 480, 640)


def test_real_nyud_training_pipeline(nyud_dense):
    """Random scale [0.5, 2.0], pad to and crop 425 x 560, flip: every label stays on
    the input's grid with only values it had, ignore / 0 where padded, unit normals."""
    dataset = build_dataset(nyud_dense, split='val', pipeline=NYUD_TRAIN)
    raw = build_dataset(nyud_dense, split='val', pipeline=LOAD)
    scales = set()
    for seed in range(3):
        for i in range(len(dataset)):
            np.random.seed(seed)
            out = dataset[i]
            sample, ins = out['data_samples'], raw[i]
            scales.add(round(sample.scale_factor[0], 2))
            assert out['inputs'].shape == (3, 425, 560)
            seg = sample.gt_sem_seg.data
            assert seg.shape == (1, 425, 560) and seg.dtype == torch.long
            assert set(seg.unique().tolist()) <= set(np.unique(ins['gt_seg_map'])) | {255}
            depth = sample.gt_depth.data
            assert depth.shape == (1, 425, 560)
            assert set(np.unique(depth.numpy())) <= set(np.unique(ins['gt_depth'])) | {0.}
            if 'normal' in sample.tasks:
                normal = sample.gt_normal.data
                norms = normal.norm(dim=0)
                assert normal.shape == (3, 425, 560) and (norms > 0).float().mean() > 0.2
                assert torch.allclose(norms[norms > 0], torch.ones(()), atol=1e-5)
            else:
                assert 'gt_normal' not in sample
    assert len(scales) > 1
