"""SaliencyMetric (maxF, mIoU) against hand-computed values of its formulas, and SegMetric
on PartsHead predictions (parts mIoU)."""
import numpy as np
import pytest
import torch

from mtlunder.evaluation.metrics import SaliencyMetric, SegMetric


def _entry(pred, gt, tasks=('sal', ), path='x.png', field='sal'):
    return {f'pred_{field}': dict(data=torch.as_tensor(pred)),
            f'gt_{field}': dict(data=torch.as_tensor(gt)), 'tasks': tasks, 'img_path': path}


def _evaluate(metric, entries):
    metric.process({}, entries)
    return metric.compute_metrics(metric.results)


#: image 1: labelled pixels (gt, prob) = (1, .9), (1, .5), (0, .4) and one ignored;
#: image 2: no foreground and nothing above 0.3.
IMAGE1 = ([[[0.9, 0.5], [0.4, 0.99]]], [[[1, 1], [0, 255]]])
IMAGE2 = ([[[0.1, 0.2], [0.2, 0.1]]], [[[0, 0], [0, 0]]])


def test_hand_computed_values():
    """t = 0.3: image 1 TP 2, FP 1, FN 0 -> P 2/3, R 1, IoU 2/3; image 2 nothing predicted,
    no foreground -> P 0, R 0, IoU 1. Means: P 1/3, R 1/2, IoU 5/6.
    t = 0.6: image 1 TP 1, FP 0, FN 1 -> P 1, R 1/2, IoU 1/2; image 2 as before.
    Means: P 1/2, R 1/4, IoU 3/4."""
    p, r = np.array([1 / 3, 1 / 2]), np.array([1 / 2, 1 / 4])
    miou = max(5 / 6, 3 / 4)
    for b2 in (1.0, 0.3):
        f = (1 + b2) * p * r / (b2 * p + r)
        metric = SaliencyMetric(thresholds=[0.3, 0.6], beta_squared=b2)
        out = _evaluate(metric, [_entry(*IMAGE1), _entry(*IMAGE2)])
        assert out['maxF'] == pytest.approx(f.max()) and out['mIoU'] == pytest.approx(miou)
    # the two conventions peak at different thresholds: F1 at 0.3 (0.4), F_0.3 at 0.6
    assert 2 * p[0] * r[0] / (p[0] + r[0]) == pytest.approx(0.4)
    assert 1.3 * p[1] * r[1] / (0.3 * p[1] + r[1]) == pytest.approx(0.40625)


def test_defaults_and_strict_threshold():
    metric = SaliencyMetric()
    assert np.allclose(metric.thresholds, np.linspace(0.2, 0.9, 15))
    assert metric.beta_squared == 1.0 and metric.prefix == 'sal'
    # a probability equal to the threshold is not foreground (prob > t)
    out = _evaluate(SaliencyMetric(thresholds=[0.5]), [_entry([[[0.5, 1.0]]], [[[1, 1]]])])
    assert out['mIoU'] == pytest.approx(0.5)
    assert out['maxF'] == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_empty_images_give_no_nan():
    # empty label, empty prediction: IoU 1, P = R = 0 (ASTMT's convention)
    out = _evaluate(SaliencyMetric(thresholds=[0.5]), [_entry(*IMAGE2)])
    assert out == dict(maxF=0.0, mIoU=1.0)
    # empty label, something predicted: IoU 0
    out = _evaluate(SaliencyMetric(thresholds=[0.5]), [_entry([[[0.9, 0.1]]], [[[0, 0]]])])
    assert out == dict(maxF=0.0, mIoU=0.0)
    # an image without any labelled pixel is left out; none left -> NaN
    metric = SaliencyMetric(thresholds=[0.3, 0.6])
    out = _evaluate(metric, [_entry(*IMAGE1), _entry([[[0.9]]], [[[255]]])])
    assert out['mIoU'] == pytest.approx(2 / 3)
    out = _evaluate(SaliencyMetric(), [_entry([[[0.9]]], [[[255]]])])
    assert np.isnan(out['maxF']) and np.isnan(out['mIoU'])


def test_matches_a_direct_per_image_implementation():
    rng = np.random.default_rng(0)
    thresholds = np.linspace(0.2, 0.9, 15)
    entries, per_image = [], []
    for k in range(5):
        prob = rng.uniform(0, 1, (12, 10))
        gt = (rng.uniform(0, 1, (12, 10)) < 0.4).astype(np.int64)
        gt[:2] = 255
        entries.append(_entry(prob[None], gt[None], path=f'{k}.png'))
        valid = gt != 255
        g = gt[valid] > 0.5
        rows = []
        for t in thresholds:
            m = prob[valid] > t
            tp, fp, fn = (m & g).sum(), (m & ~g).sum(), (~m & g).sum()
            rows.append((tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0,
                         tp / (tp + fp + fn) if tp + fp + fn else 1.0))
        per_image.append(rows)
    per_image = np.array(per_image)                      # [images, thresholds, (P, R, IoU)]
    p, r, iou = per_image.mean(0).T
    for b2 in (1.0, 0.3):
        out = _evaluate(SaliencyMetric(beta_squared=b2), entries)
        assert out['maxF'] == pytest.approx(((1 + b2) * p * r / (b2 * p + r)).max(), abs=1e-12)
        assert out['mIoU'] == pytest.approx(iou.max(), abs=1e-12)


def test_skips_and_errors():
    metric = SaliencyMetric(thresholds=[0.5])
    metric.process({}, [_entry(*IMAGE1, tasks=('seg', )), _entry(*IMAGE1)])
    assert [r.get('skipped') for r in metric.results] == ['not labelled sal', None]
    with pytest.raises(ValueError, match=r'pred_sal of bad\.png must hold probabilities'):
        SaliencyMetric().process({}, [_entry([[[1.5]]], [[[1]]], path='bad.png')])
    with pytest.raises(ValueError, match=r'gt_sal of raw\.png must hold values in \[0, 1\]'):
        SaliencyMetric().process({}, [_entry([[[0.5]]], [[[128]]], path='raw.png')])
    with pytest.raises(ValueError, match='original size'):
        SaliencyMetric().process({}, [_entry([[[0.5, 0.5]]], [[[1]]])])
    with pytest.raises(ValueError, match='thresholds'):
        SaliencyMetric(thresholds=[0.5, 1.0])
    with pytest.raises(ValueError, match='beta_squared'):
        SaliencyMetric(beta_squared=0)


def test_registered():
    from mtlunder.registry import METRICS

    metric = METRICS.build(dict(type='SaliencyMetric', thresholds=[0.5]))
    assert isinstance(metric, SaliencyMetric) and np.allclose(metric.thresholds, [0.5])


def test_parts_miou_on_parts_head_predictions():
    """gt [[0, 1], [2, 2]] vs pred [[0, 1], [2, 1]]: IoU background 1, head 1/2 (TP 1, FP 1),
    torso 1/2 (TP 1, FN 1); the four absent parts are left out: mIoU 2/3."""
    metric = SegMetric(task='parts', num_classes=7)
    out = _evaluate(metric, [_entry([[[0, 1], [2, 1]]], [[[0, 1], [2, 2]]],
                                    tasks=('parts', ), field='parts')])
    assert out['mIoU'] == pytest.approx(2 / 3) and out['aAcc'] == pytest.approx(3 / 4)

    from mmengine.structures import PixelData

    from mtlunder.registry import MODELS
    from mtlunder.structures import MultiTaskDataSample
    from mtlunder.utils import register_all_modules

    register_all_modules()
    head = MODELS.build(dict(type='PartsHead', decode_head=dict(
        type='mmseg.ASPPHead', in_channels=8, channels=4, dilations=(1, 2), in_index=0))).eval()
    gts = [torch.randint(0, 7, (1, 12, 16)) for _ in range(2)]
    gts[0][0, :2] = 255
    samples = []
    for gt in gts:
        sample = MultiTaskDataSample(metainfo=dict(img_shape=(12, 16), ori_shape=(12, 16),
                                                   tasks=('parts', ), img_path='p.png'))
        sample.gt_parts = PixelData(data=gt)
        samples.append(sample)
    with torch.no_grad():
        head.predict([torch.randn(2, 8, 3, 4)], torch.zeros(2, 3, 12, 16), samples)
    metric = SegMetric(task='parts', num_classes=7)
    out = _evaluate(metric, [s.to_dict() for s in samples])
    confusion = np.zeros((7, 7), np.int64)
    for s in samples:
        gt, pred = s.gt_parts.data.reshape(-1), s.pred_parts.data.reshape(-1)
        keep = gt != 255
        np.add.at(confusion, (gt[keep].numpy(), pred[keep].numpy()), 1)
    tp = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - tp
    assert out['mIoU'] == pytest.approx(np.mean(tp[union > 0] / union[union > 0]))
