"""Paired geometric transforms keep the reference, boxes and seg map on the input."""
import copy
import pickle

import numpy as np
import pytest
import torch

from .tiny_benchmark import SHARED_DATA, blob_image

BOXES = np.array([[10., 8., 30., 26.], [44., 20., 70., 50.]], dtype=np.float32)


def make_results(h=60, w=80, boxes=BOXES, tasks=('det', 'enh')):
    """The input has blobs at the boxes; the reference is the input with R and B swapped."""
    img = blob_image(h, w, boxes.astype(int), colour=(30, 140, 250), seed=11)
    seg = np.zeros((h, w), dtype=np.uint8)
    for x1, y1, x2, y2 in boxes.astype(int):
        seg[y1:y2, x1:x2] = 1
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), gt_clean=img[..., ::-1].copy(),
                gt_bboxes=boxes.copy(), gt_bboxes_labels=np.arange(len(boxes)),
                gt_ignore_flags=np.zeros(len(boxes), dtype=bool), gt_seg_map=seg,
                tasks=tasks, img_path='in.png', ref_path='ref.png')


def build(cfgs):
    from mmcv.transforms import Compose

    return Compose(cfgs)


PAIRED = [
    dict(type='PairedResize', scale=(100, 72), keep_ratio=True),
    dict(type='PairedRandomFlip', prob=0.75, direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='PairedRandomCrop', crop_size=(64, 48), allow_negative_crop=True),
    dict(type='PairedPad', size_divisor=32, pad_val=dict(img=7, seg=255)),
]


def test_reference_boxes_and_seg_stay_aligned():
    pipeline = build(PAIRED)
    directions = set()
    for seed in range(12):
        np.random.seed(seed)
        out = pipeline(make_results())
        directions.add(out['flip_direction'])
        img, ref = out['img'], out['gt_clean']
        assert ref.shape == img.shape == (64, 64, 3)  # crop 48x64, pad to 64x64
        np.testing.assert_array_equal(ref, img[..., ::-1])  # includes the pad region
        assert (img[48:] == 7).all()  # pad value of the input, shared by the reference
        # every kept box sits on a blob of the reference, and the seg map agrees
        blob = ref[..., 0] > 200  # red channel of the reference = blue blob of the input
        assert (out['gt_seg_map'][blob] == 1).mean() > 0.9
        for x1, y1, x2, y2 in out['gt_bboxes']:
            inner = blob[int(np.ceil(y1)) + 1:int(y2) - 1, int(np.ceil(x1)) + 1:int(x2) - 1]
            assert inner.size == 0 or inner.mean() > 0.95
    assert len(directions) >= 3  # the test saw flipped and unflipped draws


def test_boxes_equal_mmdet_transforms_under_the_same_draw():
    mmdet_cfgs = [dict(cfg, type=cfg['type'].replace('Paired', '')) for cfg in PAIRED]
    paired, plain = build(PAIRED), build(mmdet_cfgs)
    for seed in range(6):
        np.random.seed(seed)
        a = paired(make_results())
        np.random.seed(seed)
        b = plain(make_results())
        np.testing.assert_array_equal(a['img'], b['img'])
        np.testing.assert_allclose(a['gt_bboxes'], b['gt_bboxes'])
        np.testing.assert_array_equal(a['gt_seg_map'], b['gt_seg_map'])
        np.testing.assert_allclose(a['homography_matrix'], b['homography_matrix'])


def test_resize_is_bilinear_and_matches_the_input_up_to_the_colour_change():
    import mmcv

    results = make_results()
    results['gt_clean'] = 255 - results['img']  # affine colour change
    out = build([dict(type='PairedResize', scale=(123, 91), keep_ratio=False)])(results)
    assert out['gt_clean'].shape == out['img'].shape == (91, 123, 3)
    diff = out['gt_clean'].astype(int) - (255 - out['img'].astype(int))
    assert np.abs(diff).max() <= 1  # uint8 rounding of the interpolated values
    expected = mmcv.imresize(255 - make_results()['img'], (123, 91), interpolation='bilinear')
    np.testing.assert_array_equal(out['gt_clean'], expected)


def test_multi_scale_resize_wrappers_take_paired_resize():
    pipeline = build([dict(type='RandomResize', scale=[(100, 80), (200, 160)], keep_ratio=True,
                           resize_type='PairedResize')])
    sizes = set()
    for seed in range(4):
        np.random.seed(seed)
        results = make_results()
        results['gt_clean'] = results['img'].copy()
        out = pipeline(results)
        np.testing.assert_array_equal(out['gt_clean'], out['img'])
        sizes.add(out['img'].shape)
    assert len(sizes) > 1


def test_crop_offset_is_read_from_mmdet_and_composes_homography():
    results = make_results()
    results['homography_matrix'] = np.diag([2., 2., 1.]).astype(np.float32)
    np.random.seed(3)
    out = build([dict(type='PairedRandomCrop', crop_size=(40, 30))])(results)
    full = make_results()['img']
    hits = [(y, x) for y in range(31) for x in range(41)
            if np.array_equal(full[y:y + 30, x:x + 40], out['img'])]
    assert len(hits) == 1
    y, x = hits[0]
    np.testing.assert_array_equal(out['gt_clean'], full[y:y + 30, x:x + 40, ::-1])
    crop = np.array([[1, 0, -x], [0, 1, -y], [0, 0, 1]], dtype=np.float32)
    np.testing.assert_allclose(out['homography_matrix'], crop @ np.diag([2., 2., 1.]))


def test_samples_without_reference_pass_through():
    results = make_results()
    del results['gt_clean']
    np.random.seed(0)
    out = build(PAIRED)(results)
    assert 'gt_clean' not in out and out['img'].shape == (64, 64, 3)


def test_photometric_distortion_touches_only_the_input():
    results = make_results()
    ref_before = results['gt_clean'].copy()
    for seed in range(4):
        np.random.seed(seed)
        out = build([dict(type='PhotoMetricDistortion')])(copy.deepcopy(results))
        np.testing.assert_array_equal(out['gt_clean'], ref_before)
        np.testing.assert_array_equal(out['gt_bboxes'], results['gt_bboxes'])
    assert not np.array_equal(out['img'], results['img'])


def test_random_water_cast_follows_the_formation_model():
    results = make_results()
    img = results['img']
    img[0, 0], img[0, 1] = 0, 255
    ref_before = results['gt_clean'].copy()
    out = build([dict(type='RandomWaterCast', prob=1.0, transmission_range=(0.5, 0.9),
                      veil_range=(20., 200.))])(copy.deepcopy(results))
    veil_part = out['img'][0, 0]  # B (1 - t)
    t = (out['img'][0, 1] - veil_part) / 255.
    assert ((t >= 0.5 - 1e-5) & (t <= 0.9 + 1e-5)).all()
    veil = veil_part / (1 - t)
    assert ((veil >= 20 - 1e-3) & (veil <= 200 + 1e-3)).all()
    np.testing.assert_allclose(out['img'], img.astype(np.float32) * t + veil_part, rtol=1e-5,
                               atol=1e-3)
    np.testing.assert_array_equal(out['gt_clean'], ref_before)
    unchanged = build([dict(type='RandomWaterCast', prob=0.0)])(copy.deepcopy(results))
    np.testing.assert_array_equal(unchanged['img'], img)


@pytest.fixture
def pair_files(tmp_path):
    import cv2

    img = blob_image(24, 32, [(4, 4, 12, 12)], seed=1)
    cv2.imwrite(str(tmp_path / 'in.png'), img)
    cv2.imwrite(str(tmp_path / 'ref.png'), img)
    cv2.imwrite(str(tmp_path / 'small.png'), img[:20])
    (tmp_path / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 40)
    jpg = cv2.imencode('.jpg', img)[1].tobytes()
    (tmp_path / 'truncated.jpg').write_bytes(jpg[:len(jpg) // 2])
    return tmp_path


def load(root, ref_name, tasks=('enh', )):
    pipeline = build([dict(type='LoadImageFromFile'), dict(type='LoadReferenceImage')])
    return pipeline(dict(img_path=str(root / 'in.png'),
                         ref_path=None if ref_name is None else str(root / ref_name),
                         tasks=tasks))


def test_reference_is_loaded_in_the_input_channel_order(pair_files):
    out = load(pair_files, 'ref.png')
    assert out['gt_clean'].dtype == np.uint8
    np.testing.assert_array_equal(out['gt_clean'], out['img'])  # both BGR, same decoder
    assert 'gt_clean' not in load(pair_files, None, tasks=('det', ))


@pytest.mark.parametrize('ref_name, error, words', [
    ('missing.png', FileNotFoundError, ['missing.png', 'in.png']),
    ('broken.png', OSError, ['broken.png']),
    ('truncated.jpg', OSError, ['truncated.jpg']),
    ('small.png', ValueError, ['small.png', '32x20', 'in.png', '32x24']),
    (None, ValueError, ['in.png', "'enh'"]),
])
def test_reference_errors_name_the_files(pair_files, ref_name, error, words):
    with pytest.raises(error) as err:
        load(pair_files, ref_name)
    for word in words:
        assert word in str(err.value)


def test_truncated_real_jpeg_is_refused_by_name():
    truncated = SHARED_DATA / 'voc_samples' / 'VOC2007' / 'JPEGImages' / '000001.jpg'
    if not truncated.is_file():
        pytest.skip(f'real truncated VOC sample not found at {truncated}')
    with pytest.raises(OSError, match='000001.jpg'):
        build([dict(type='LoadReferenceImage')])(
            dict(img=np.zeros((5, 5, 3), np.uint8), img_path='in.png', ref_path=str(truncated)))


def test_pack_builds_a_multitask_sample():
    from mtlunder.structures import MultiTaskDataSample

    np.random.seed(1)
    out = build(PAIRED + [dict(type='PackMultiTaskInputs')])(make_results())
    np.random.seed(1)
    unpacked = build(PAIRED)(make_results())
    sample, inputs = out['data_samples'], out['inputs']
    assert isinstance(sample, MultiTaskDataSample)
    assert sample.gt_clean.data.dtype == torch.float32
    assert torch.equal(sample.gt_clean.data, inputs.flip(0).float())  # same [3, H, W] layout
    assert sample.tasks == sample.metainfo['tasks'] == ('det', 'enh') and sample.has_task('enh')
    assert pickle.loads(pickle.dumps(sample)).tasks == sample.clone().tasks == ('det', 'enh')
    for key in ('img_path', 'ref_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                'flip_direction', 'pad_shape'):
        assert key in sample.metainfo, key
    assert sample.gt_sem_seg.sem_seg.shape == (1, 64, 64)
    np.testing.assert_allclose(sample.gt_instances.bboxes.numpy(), unpacked['gt_bboxes'])
    assert torch.equal(sample.gt_sem_seg.sem_seg[0], torch.from_numpy(unpacked['gt_seg_map']))


def test_pack_refuses_a_reference_left_behind():
    with pytest.raises(ValueError, match='ref.png.*in.png.*Paired'):
        build([dict(type='Resize', scale=(40, 30)),
               dict(type='PackMultiTaskInputs')])(make_results())


def test_base_pipeline_on_a_real_euvp_pair():
    pairs = SHARED_DATA / 'euvp_pairs'
    if not pairs.is_dir():
        pytest.skip(f'real EUVP pairs not found at {pairs} (../shared/data is absent)')
    import mmcv

    from mtlunder.registry import MODELS

    name = sorted(p.name for p in (pairs / 'input').iterdir())[0]
    pipeline = build([
        dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
        dict(type='LoadReferenceImage'),
        dict(type='PairedResize', scale=(320, 320), keep_ratio=True),
        dict(type='PairedRandomFlip', prob=1.0),
        dict(type='PhotoMetricDistortion'),
        dict(type='PackMultiTaskInputs')])
    np.random.seed(0)
    out = pipeline(dict(img_path=str(pairs / 'input' / name),
                        ref_path=str(pairs / 'reference' / name), instances=[],
                        tasks=('enh', )))
    sample = out['data_samples']
    assert out['inputs'].shape == sample.gt_clean.data.shape == (3, 320, 320)
    assert sample.flip and sample.flip_direction == 'horizontal'

    preprocessor = MODELS.build(dict(
        type='MultiTaskDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32))
    batch = preprocessor(dict(inputs=[out['inputs']], data_samples=[sample]), training=True)
    clean = batch['data_samples'][0].gt_clean.data
    assert clean.shape == batch['inputs'].shape[1:] == (3, 320, 320)
    ref = mmcv.imread(str(pairs / 'reference' / name))  # BGR, the original 256x256
    expected = mmcv.imflip(mmcv.imresize(ref, (320, 320)), 'horizontal')[..., ::-1] / 255.
    restored = preprocessor.denormalize(clean).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(restored, expected, atol=1e-5)


# --- dense labels (label maps, depth, normals) -------------------------------------------

DENSE_TASKS = ('seg', 'depth', 'normal', 'edge', 'parts')


def make_dense_results(h=60, w=80, seed=0):
    """A dense sample without boxes: every label map has classes and a 255 (ignore) block,
    depth has distinct values per pixel and 0 (no measurement) holes, normals have random
    lengths (renormalised by any resize) and zero (invalid) vectors."""
    rng = np.random.default_rng(seed)
    seg = rng.choice(np.array([0, 3, 7], np.uint8), size=(h, w))
    seg[5:15, 50:70] = 255
    edge = rng.integers(0, 2, (h, w)).astype(np.uint8)
    edge[40:, :10] = 255
    depth = rng.permutation(h * w).reshape(h, w).astype(np.float32) / 100 + 0.5
    depth[20:30, 20:40] = 0
    normal = rng.normal(size=(h, w, 3)).astype(np.float32)
    normal[rng.random((h, w)) < 0.1] = 0
    return dict(img=blob_image(h, w, [], seed=seed), img_shape=(h, w), ori_shape=(h, w),
                gt_seg_map=seg, gt_edge=edge, gt_parts=seg.copy(), gt_depth=depth,
                gt_normal=normal, tasks=DENSE_TASKS, img_path='in.png', seg_path='seg.png',
                depth_path='depth.npy', normal_path='normal.npy', edge_path='edge.png',
                parts_path='parts.png')


def unit(vectors):
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norm, out=np.zeros_like(vectors), where=norm > 0)


FLIP_SIGN = dict(horizontal=[-1, 1, 1], vertical=[1, -1, 1], diagonal=[-1, -1, 1])


@pytest.mark.parametrize('key, pad', [('gt_edge', 255), ('gt_depth', 0), ('gt_normal', 0)])
def test_dense_labels_move_like_the_mmdet_seg_map(key, pad):
    """Each label gets mmdet's own gt_seg_map handling (nearest, same flip, crop and
    pad) with its pad value; normals are then renormalised and the flip axis negated."""
    as_seg = [dict(cfg, pad_val=dict(img=7, seg=pad)) if 'pad_val' in cfg else cfg
              for cfg in PAIRED]
    for seed in range(8):
        np.random.seed(seed)
        out = build(PAIRED)(make_dense_results(seed=seed))
        results = make_dense_results(seed=seed)
        results['gt_seg_map'] = results.pop(key)
        np.random.seed(seed)
        expected = build(as_seg)(results)['gt_seg_map']
        if key == 'gt_normal':
            expected = unit(expected)
            if out['flip']:
                expected = expected * FLIP_SIGN[out['flip_direction']]
        assert out[key].shape[:2] == out['img'].shape[:2] == (64, 64)
        assert out[key].dtype == make_dense_results()[key].dtype
        np.testing.assert_array_equal(out[key], expected)
        np.testing.assert_array_equal(out['gt_parts'], out['gt_seg_map'])  # a copy of seg


def test_labels_keep_their_values_and_ignore_through_every_transform():
    ins = make_dense_results()
    for seed in range(8):
        np.random.seed(seed)
        out = build(PAIRED)(make_dense_results())
        for key in ('gt_seg_map', 'gt_edge', 'gt_parts', 'gt_depth'):
            assert set(np.unique(out[key])) <= set(np.unique(ins[key])), key  # nearest
        for key in ('gt_seg_map', 'gt_edge', 'gt_parts'):
            assert (out[key][48:] == 255).all()  # pad rows (crop 48x64 -> pad 64x64)
        assert (out['gt_depth'][48:] == 0).all() and (out['gt_normal'][48:] == 0).all()
        norms = np.linalg.norm(out['gt_normal'], axis=-1)
        assert np.allclose(norms[norms > 0], 1, atol=1e-6)


def test_class_maps_resize_nearest_and_depth_never_blends():
    import mmcv

    ins = make_dense_results()
    out = build([dict(type='PairedResize', scale=(123, 91), keep_ratio=False)])(
        make_dense_results())
    for key in ('gt_edge', 'gt_depth'):
        np.testing.assert_array_equal(
            out[key], mmcv.imresize(ins[key], (123, 91), interpolation='nearest'))
    assert set(np.unique(out['gt_depth'])) <= set(np.unique(ins['gt_depth']))
    assert set(np.unique(out['gt_seg_map'])) == {0, 3, 7, 255}
    norms = np.linalg.norm(out['gt_normal'], axis=-1)
    assert out['gt_normal'].shape == (91, 123, 3) and (norms > 0).any()
    np.testing.assert_allclose(norms[norms > 0], 1, atol=1e-6)
    zero = mmcv.imresize(np.linalg.norm(ins['gt_normal'], axis=-1), (123, 91),
                         interpolation='nearest') == 0
    np.testing.assert_array_equal(norms == 0, zero)  # invalid stays invalid, and only it


@pytest.mark.parametrize('direction, axis', [('horizontal', 0), ('vertical', 1)])
def test_flip_negates_the_normal_component_along_the_flip_axis(direction, axis):
    import mmcv

    ins = make_dense_results()
    out = build([dict(type='PairedRandomFlip', prob=1.0, direction=direction)])(
        make_dense_results())
    expected = mmcv.imflip(ins['gt_normal'], direction).copy()
    expected[..., axis] *= -1
    np.testing.assert_array_equal(out['gt_normal'], expected)
    np.testing.assert_array_equal(out['gt_edge'], mmcv.imflip(ins['gt_edge'], direction))
    np.testing.assert_array_equal(out['gt_depth'], mmcv.imflip(ins['gt_depth'], direction))


@pytest.mark.parametrize('h, w', [(300, 400), (500, 400)])
def test_nyud_crop_on_a_smaller_image_pads_with_ignore_values(h, w):
    """NYUD-v2's 425 x 560 (h x w) crop, mmdet's (w, h) order: pad to at least the crop
    first; a sample without boxes is never dropped (allow_negative_crop=False)."""
    ins = make_dense_results(h, w)
    pipeline = build([dict(type='PairedPad', size=(560, 425)),
                      dict(type='PairedRandomCrop', crop_size=(560, 425))])
    np.random.seed(0)
    out = pipeline(make_dense_results(h, w))
    y = -int(out['homography_matrix'][1, 2])
    assert out['img'].shape == (425, 560, 3) and not out['homography_matrix'][0, 2]
    rows = slice(0, h - y)
    for key, ignore in (('gt_seg_map', 255), ('gt_edge', 255), ('gt_depth', 0),
                        ('gt_normal', 0)):
        assert out[key].shape[:2] == (425, 560)
        np.testing.assert_array_equal(out[key][rows, :w], ins[key][y:y + 425])
        assert (out[key][:, w:] == ignore).all() and (out[key][h - y:] == ignore).all()


def test_random_resize_ratio_range_takes_paired_resize():
    pipeline = build([dict(type='RandomResize', scale=(80, 60), ratio_range=(0.5, 2.0),
                           keep_ratio=True, resize_type='PairedResize')])
    sizes = set()
    for seed in range(4):
        np.random.seed(seed)
        out = pipeline(make_dense_results())
        sizes.add(out['img'].shape[:2])
        for key in ('gt_seg_map', 'gt_edge', 'gt_depth', 'gt_normal'):
            assert out[key].shape[:2] == out['img'].shape[:2]
        assert set(np.unique(out['gt_edge'])) <= {0, 1, 255}
    assert len(sizes) > 2 and all(30 <= h <= 120 for h, _ in sizes)


def test_pack_dense_labels_shapes_and_dtypes():
    np.random.seed(2)
    out = build(PAIRED + [dict(type='PackMultiTaskInputs')])(make_dense_results())
    sample = out['data_samples']
    assert sample.tasks == DENSE_TASKS and out['inputs'].shape == (3, 64, 64)
    assert sample.gt_sem_seg.sem_seg.shape == (1, 64, 64)
    assert sample.gt_sem_seg.sem_seg.dtype == torch.long
    assert sample.gt_sem_seg.data is sample.gt_sem_seg.sem_seg  # the table's key and mmdet's
    for field, channels, dtype in (('gt_edge', 1, torch.long), ('gt_parts', 1, torch.long),
                                   ('gt_depth', 1, torch.float32),
                                   ('gt_normal', 3, torch.float32)):
        assert sample.get(field).data.shape == (channels, 64, 64), field
        assert sample.get(field).data.dtype == dtype, field
    assert 'gt_sal' not in sample and 'gt_clean' not in sample
    assert torch.equal(sample.gt_parts.data, sample.gt_sem_seg.sem_seg)
    np.random.seed(2)
    unpacked = build(PAIRED)(make_dense_results())
    assert torch.equal(sample.gt_normal.data,
                       torch.from_numpy(unpacked['gt_normal']).permute(2, 0, 1))


def test_pack_refuses_a_dense_label_left_behind():
    with pytest.raises(ValueError, match='depth label depth.npy.*in.png.*Paired'):
        build([dict(type='Resize', scale=(40, 30)),
               dict(type='PackMultiTaskInputs')])(make_dense_results())
