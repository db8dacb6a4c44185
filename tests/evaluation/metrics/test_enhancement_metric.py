"""EnhancementMetric against numpy PSNR/SSIM, and next to mmdet's CocoMetric."""
import json
import math

import numpy as np
import pytest
import torch

from mtlunder.evaluation.metrics import CombinedScoreMetric, EnhancementMetric


pytestmark = pytest.mark.usefixtures('single_thread')


def numpy_psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * math.log10(255.0**2 / mse)


def numpy_ssim(a, b, size=11, sigma=1.5):
    """Wang et al. SSIM, Gaussian window, valid windows, mean over channels (HWC uint8)."""
    ax = np.arange(size) - size // 2
    g = np.exp(-ax**2 / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255)**2, (0.03 * 255)**2
    scores = []
    for ch in range(a.shape[2]):
        x = np.lib.stride_tricks.sliding_window_view(a[..., ch].astype(np.float64), (size, size))
        y = np.lib.stride_tricks.sliding_window_view(b[..., ch].astype(np.float64), (size, size))
        mx, my = (x * w).sum((-2, -1)), (y * w).sum((-2, -1))
        vx = (x * x * w).sum((-2, -1)) - mx**2
        vy = (y * y * w).sum((-2, -1)) - my**2
        cxy = (x * y * w).sum((-2, -1)) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        scores.append(s.mean())
    return float(np.mean(scores))


def write_rgb(path, rgb):
    import cv2

    assert cv2.imwrite(str(path), rgb[..., ::-1])
    return str(path)


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (24, 20, 3)).astype(np.uint8)
    inp = np.clip(ref * 0.6 + 40 + rng.normal(0, 8, ref.shape), 0, 255).astype(np.uint8)
    pred = np.clip(ref + rng.normal(0, 6, ref.shape), 0, 255).astype(np.uint8)
    return dict(ref=ref, inp=inp, pred=pred,
                ref_path=write_rgb(tmp_path / 'ref.png', ref),
                img_path=write_rgb(tmp_path / 'inp.png', inp))


def sample(pair, **extra):
    pred = torch.from_numpy(pair['pred'].transpose(2, 0, 1).copy()).float() / 255
    return dict(pred_clean=dict(data=pred), img_path=pair['img_path'],
                ref_path=pair['ref_path'], ori_shape=(24, 20), **extra)


def test_psnr_ssim_match_numpy(pair):
    metric = EnhancementMetric()
    metric.process({}, [sample(pair, tasks=('det', 'enh'))])
    res = metric.compute_metrics(metric.results)
    assert res['psnr'] == pytest.approx(numpy_psnr(pair['pred'], pair['ref']), abs=1e-6)
    assert res['ssim'] == pytest.approx(numpy_ssim(pair['pred'], pair['ref']), abs=1e-6)
    assert res['input_psnr'] == pytest.approx(numpy_psnr(pair['inp'], pair['ref']), abs=1e-6)
    assert res['input_ssim'] == pytest.approx(numpy_ssim(pair['inp'], pair['ref']), abs=1e-6)
    assert res['psnr'] > res['input_psnr']


def test_average_over_images_and_skips(pair, tmp_path):
    metric = EnhancementMetric()
    other = dict(pair, pred=pair['ref'])  # perfect prediction: capped PSNR, SSIM 1
    metric.process({}, [sample(pair), sample(other), sample(pair, tasks=('det', )),
                        dict(sample(pair), ref_path=None)])
    res = metric.compute_metrics(metric.results)
    assert res['psnr'] == pytest.approx((numpy_psnr(pair['pred'], pair['ref']) + 100) / 2)
    assert res['ssim'] == pytest.approx((numpy_ssim(pair['pred'], pair['ref']) + 1) / 2)
    assert sum(r.get('skipped', False) for r in metric.results) == 2


def test_bad_files_are_named(pair, tmp_path):
    metric = EnhancementMetric()
    with pytest.raises(FileNotFoundError, match='missing.png'):
        metric.process({}, [dict(sample(pair), ref_path=str(tmp_path / 'missing.png'))])
    broken = tmp_path / 'broken.png'
    broken.write_bytes(open(pair['ref_path'], 'rb').read()[:40])
    with pytest.raises(ValueError, match='broken.png'):
        metric.process({}, [dict(sample(pair), ref_path=str(broken))])
    small = write_rgb(tmp_path / 'small.png', pair['ref'][:20])
    with pytest.raises(ValueError, match='small.png'):
        metric.process({}, [dict(sample(pair), ref_path=small)])


def test_truncated_real_image_is_reported(shared_data):
    truncated = shared_data / 'voc_samples' / 'VOC2007' / 'JPEGImages' / '000001.jpg'
    if not truncated.exists():
        pytest.skip(f'truncated VOC sample not found at {truncated}')
    metric = EnhancementMetric()
    pred = dict(data=torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match='000001.jpg'):
        metric.process({}, [dict(pred_clean=pred, img_path=str(truncated),
                                 ref_path=str(truncated))])


def test_real_pair_gain_is_visible(shared_data):
    """LSUI pair: the reference itself as prediction beats the raw input by far."""
    data = shared_data / 'lsui_pairs'
    if not data.exists():
        pytest.skip(f'LSUI pairs not found at {data}')
    import mmcv

    name = sorted((data / 'reference').iterdir())[0].name
    ref = mmcv.imread(str(data / 'reference' / name), channel_order='rgb')
    pred = torch.from_numpy(ref.transpose(2, 0, 1).copy()).float() / 255
    metric = EnhancementMetric()
    metric.process({}, [dict(pred_clean=dict(data=pred), img_path=str(data / 'input' / name),
                             ref_path=str(data / 'reference' / name))])
    res = metric.compute_metrics(metric.results)
    assert res['psnr'] == 100 and res['ssim'] == pytest.approx(1.0)
    assert res['input_psnr'] < 40 and res['input_ssim'] < 1


def coco_setup(tmp_path, pair):
    ann = dict(
        images=[dict(id=0, file_name='inp.png', width=20, height=24)],
        annotations=[dict(id=1, image_id=0, category_id=1, bbox=[2, 3, 10, 12], area=120,
                          iscrowd=0)],
        categories=[dict(id=i + 1, name=n) for i, n in
                    enumerate(['holothurian', 'echinus', 'scallop', 'starfish'])])
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(ann))
    pred = dict(bboxes=torch.tensor([[2.0, 3.0, 12.0, 15.0]]), scores=torch.tensor([0.9]),
                labels=torch.tensor([0]))
    data_sample = dict(sample(pair), img_id=0, pred_instances=pred)
    meta = dict(classes=('holothurian', 'echinus', 'scallop', 'starfish'))
    return str(path), data_sample, meta


def test_with_coco_metric_in_one_evaluator(tmp_path, pair):
    from mmengine.evaluator import Evaluator

    from mtlunder.utils import register_all_modules

    register_all_modules()
    ann_file, data_sample, meta = coco_setup(tmp_path, pair)
    evaluator = Evaluator([dict(type='CocoMetric', ann_file=ann_file, metric='bbox'),
                           dict(type='EnhancementMetric')])
    evaluator.dataset_meta = meta
    evaluator.process([data_sample], {})
    res = evaluator.evaluate(1)
    assert res['coco/bbox_mAP_50'] == pytest.approx(1.0)
    assert res['enh/psnr'] == pytest.approx(numpy_psnr(pair['pred'], pair['ref']), abs=1e-6)


def test_combined_score(tmp_path, pair):
    from mmengine.evaluator import Evaluator

    from mtlunder.utils import register_all_modules

    register_all_modules()
    ann_file, data_sample, meta = coco_setup(tmp_path, pair)
    evaluator = Evaluator(dict(type='CombinedScoreMetric', metrics=[
        dict(type='CocoMetric', ann_file=ann_file, metric='bbox'),
        dict(type='EnhancementMetric')], psnr_gain_scale=20.0))
    evaluator.dataset_meta = meta
    evaluator.process([data_sample], {})
    res = evaluator.evaluate(1)
    gain = (res['enh/psnr'] - res['enh/input_psnr']) / 20
    expected = 0.5 * res['coco/bbox_mAP_50'] + 0.5 * min(max(gain, 0), 1)
    assert res['combined/score'] == pytest.approx(expected)
    assert 0 < gain < 1  # the clip is not what decides the value here

    score = CombinedScoreMetric([dict(type='EnhancementMetric')], det_key='d', psnr_key='p',
                                input_psnr_key='i')
    assert score.compute_metrics([dict(d=0.4, p=40.0, i=20.0)]) == {'score': 0.7}
    assert score.compute_metrics([dict(d=0.4, p=10.0, i=20.0)]) == {'score': 0.2}
    # CocoMetric reports nothing while no box is detected: that term counts as 0
    assert score.compute_metrics([dict(p=25.0, i=20.0)]) == {'score': 0.25}
    assert score.compute_metrics([dict(d=0.4, i=20.0)]) == {'score': 0.2}


def test_fast_ssim_equals_kornia_definition():
    from kornia.metrics import ssim as kornia_ssim

    from mtlunder.evaluation.metrics.enhancement_metric import ssim

    gen = torch.Generator().manual_seed(0)
    a = torch.rand(3, 40, 33, generator=gen) * 255
    b = (a + torch.randn(3, 40, 33, generator=gen) * 25).clamp(0, 255)
    expected = float(kornia_ssim(a[None].double(), b[None].double(), 11, max_val=255.0,
                                 padding='valid').mean())
    assert abs(ssim(a, b) - expected) < 1e-6
