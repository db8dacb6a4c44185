import json

import numpy as np
import pytest
from PIL import Image

from mtlunder.data_converters import (DataError, DenseWriter, check_dataset, convert_nyud_mat,
                                      convert_nyud_mt, convert_nyud_png, convert_voc)
from mtlunder.data_converters.io import read_label_map, read_rgb, read_uint16_png

from .builders import voc_xml, write_image, write_truncated_jpeg

N, H, W = 3, 6, 8


@pytest.fixture
def nyud_mat(tmp_path):
    import h5py
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    data = dict(images=rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8),
                depths=rng.uniform(0.5, 9.0, (N, H, W)).astype(np.float32),
                labels=rng.integers(0, 895, (N, H, W)).astype(np.uint16))
    mat = tmp_path / 'nyu_depth_v2_labeled.mat'
    with h5py.File(mat, 'w') as f:  # MATLAB v7.3 stores the axes reversed
        f['images'] = data['images'].transpose(0, 3, 2, 1)
        f['depths'] = data['depths'].transpose(0, 2, 1)
        f['labels'] = data['labels'].transpose(0, 2, 1)
    map_class = rng.integers(0, 41, 894)
    savemat(tmp_path / 'classMapping40.mat', dict(mapClass=map_class[None, :]))
    savemat(tmp_path / 'splits.mat', dict(trainNdxs=np.array([[1], [3]]),
                                          testNdxs=np.array([[2]])))
    return tmp_path, data, map_class


def test_nyud_mat(nyud_mat, tmp_path):
    root, data, map_class = nyud_mat
    out = tmp_path / 'out'
    convert_nyud_mat(root / 'nyu_depth_v2_labeled.mat', out, root / 'splits.mat',
                     root / 'classMapping40.mat', show_progress=False)
    assert (out / 'splits' / 'train.txt').read_text().split() == ['000001', '000003']
    assert (out / 'splits' / 'val.txt').read_text().split() == ['000002']
    for i in range(N):
        sid = f'{i + 1:06d}'
        assert np.array_equal(read_rgb(out / 'images' / f'{sid}.png'), data['images'][i])
        assert np.array_equal(np.load(out / 'depth' / f'{sid}.npy'), data['depths'][i])
        labels = data['labels'][i].astype(int)
        mapped = map_class[np.maximum(labels - 1, 0)]
        expected = np.where((labels > 0) & (mapped > 0), mapped - 1, 255)
        assert np.array_equal(read_label_map(out / 'segmentation' / f'{sid}.png'), expected)
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['tasks'] == {'depth': N, 'seg': N} and len(meta['seg_classes']) == 40


def test_nyud_mat_needs_mapping(nyud_mat, tmp_path):
    root, _, _ = nyud_mat
    with pytest.raises(DataError, match='classMapping40'):
        convert_nyud_mat(root / 'nyu_depth_v2_labeled.mat', tmp_path / 'out',
                         show_progress=False)
    assert not (tmp_path / 'out').exists()


def test_nyud_mat_own_labels40(nyud_mat, tmp_path):
    import h5py

    root, data, _ = nyud_mat
    labels40 = np.random.default_rng(3).integers(0, 41, (N, H, W)).astype(np.uint8)
    with h5py.File(root / 'nyu_depth_v2_labeled.mat', 'a') as f:
        f['labels40'] = labels40.transpose(0, 2, 1)
    out = tmp_path / 'out40'
    convert_nyud_mat(root / 'nyu_depth_v2_labeled.mat', out, show_progress=False)
    for i in range(N):
        seg = read_label_map(out / 'segmentation' / f'{i + 1:06d}.png')
        assert np.array_equal(seg, np.where(labels40[i] == 0, 255, labels40[i].astype(int) - 1))
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['splits'] == {'train': N} and meta['seg_mapping'] == 'labels40 of the .mat'


def test_nyud_mt(tmp_path):
    root = tmp_path / 'NYUD_MT'
    rng = np.random.default_rng(1)
    seg = rng.integers(0, 41, (H, W)).astype(np.uint8)
    normals = rng.normal(size=(H, W, 3)).astype(np.float32)
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    for sid in ('0001', '0002'):
        write_image(root / 'images' / f'{sid}.jpg', W, H)
        (root / 'depth').mkdir(exist_ok=True)
        np.save(root / 'depth' / f'{sid}.npy', np.full((H, W), 2.5, np.float32))
        (root / 'segmentation').mkdir(exist_ok=True)
        Image.fromarray(seg).save(root / 'segmentation' / f'{sid}.png')
        (root / 'normals').mkdir(exist_ok=True)
        np.save(root / 'normals' / f'{sid}.npy', normals)
        (root / 'edge').mkdir(exist_ok=True)
        np.save(root / 'edge' / f'{sid}.npy', (seg[..., None] % 2).astype(np.float32))
    (root / 'gt_sets').mkdir()
    (root / 'gt_sets' / 'train.txt').write_text('0001\n')
    (root / 'gt_sets' / 'val.txt').write_text('0002\n')
    out = tmp_path / 'out'
    convert_nyud_mt(root, out, show_progress=False)
    written = read_label_map(out / 'segmentation' / '0001.png')
    assert np.array_equal(written, np.where(seg == 0, 255, seg.astype(int) - 1))
    assert np.array_equal(read_label_map(out / 'edges' / '0002.png'), seg % 2)
    assert np.allclose(np.load(out / 'normals' / '0001.npy'), normals)
    assert (out / 'splits' / 'val.txt').read_text().split() == ['0002']


def test_nyud_png_real(shared_data, tmp_path):
    src = shared_data / 'nyud_samples'
    out = tmp_path / 'nyud'
    convert_nyud_png(src, out, show_progress=False)
    for sid, folder in (('000433', 'ExpNYUD_three'), ('000464', 'ExpNYUD_joint')):
        raw = read_uint16_png(src / folder / f'depth_gt_{sid}.png')
        depth = np.load(out / 'depth' / f'{sid}.npy')
        assert depth.dtype == np.float32
        assert np.array_equal(depth, raw.astype(np.float32) / 5000.0)
        assert 0.3 < np.median(depth[depth > 0]) < 10.0  # metres, indoor scene
        seg_in = read_label_map(src / folder / f'segm_gt_{sid}.png')
        seg = read_label_map(out / 'segmentation' / f'{sid}.png')
        assert np.array_equal(seg, seg_in) and (seg == 255).any()
        assert seg[seg != 255].max() < 40
    normals = np.load(out / 'normals' / '000433.npy')
    assert normals.shape == (480, 640, 3) and np.abs(normals).max() <= 1.0
    assert not (out / 'normals' / '000464.npy').exists()


def test_dense_writer_rejects_bad_labels(tmp_path):
    writer = DenseWriter(tmp_path, 'x', ['a', 'b'])
    image = np.zeros((H, W, 3), np.uint8)
    with pytest.raises(DataError, match=r"s1: depth has shape \(5, 8\)"):
        writer.add('s1', image, ['train'], depth=np.ones((5, W), np.float32))
    with pytest.raises(DataError, match='s2: depth contains NaN'):
        writer.add('s2', image, ['train'], depth=np.full((H, W), np.nan, np.float32))
    with pytest.raises(DataError, match=r's3: seg has values \[2\]'):
        writer.add('s3', image, ['train'], seg=np.full((H, W), 2))
    writer.add('s4', image, ['train'], seg=np.full((H, W), 255))


def make_palette_png(path, labels):
    img = Image.fromarray(labels.astype(np.uint8), mode='P')
    pal = np.zeros((256, 3), np.uint8)
    pal[1:21] = np.random.default_rng(0).integers(0, 256, (20, 3))
    pal[255] = (224, 224, 192)
    img.putpalette(pal.ravel().tolist())
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def test_voc_dense(tmp_path):
    year = tmp_path / 'VOCdevkit' / 'VOC2012'
    labels = np.zeros((H, W), np.uint8)
    labels[1:4, 2:5] = 15
    labels[0, :] = 255
    for sid in ('a', 'b'):
        write_image(year / 'JPEGImages' / f'{sid}.jpg', W, H)
        make_palette_png(year / 'SegmentationClass' / f'{sid}.png', labels)
    write_truncated_jpeg(year / 'JPEGImages' / 'c.jpg')
    (year / 'Annotations').mkdir()
    (year / 'Annotations' / 'a.xml').write_text(
        voc_xml('a.jpg', W, H, [('person', 3, 2, 5, 4, 1)]))
    (year / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    (year / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('a\nc\n')
    (year / 'ImageSets' / 'Segmentation' / 'val.txt').write_text('b\n')
    out = tmp_path / 'voc'
    report = convert_voc(tmp_path / 'VOCdevkit', out, show_progress=False)
    assert any('c.jpg' in m for m in report.issues['corrupt_image'])
    assert np.array_equal(read_label_map(out / 'segmentation' / 'VOC2012_a.png'), labels)
    train = json.loads((out / 'annotations' / 'train.json').read_text())
    assert [i['tasks'] for i in train['images']] == [['det', 'seg']]
    ann = train['annotations'][0]
    assert ann['bbox'] == [2, 1, 3, 3] and ann['iscrowd'] == 1
    assert train['categories'][ann['category_id'] - 1]['name'] == 'person'
    val = json.loads((out / 'annotations' / 'val.json').read_text())
    assert [i['tasks'] for i in val['images']] == [['seg']]
    assert check_dataset(out, show_progress=False).num_errors == 0
    ann['bbox'] = [W - 1, 0, 5, 5]
    (out / 'annotations' / 'train.json').write_text(json.dumps(train))
    errors = check_dataset(out, show_progress=False).issues['error']
    assert len(errors) == 1 and 'outside the 8x6 image' in errors[0]
