"""DepthMetric on hand-built maps with known answers."""
import math

import pytest
import torch

from mtlunder.evaluation.metrics.depth_metric import DepthMetric
from tests.evaluation.metrics.dense_samples import evaluate, sample

pytestmark = pytest.mark.usefixtures('single_thread')


def depth_maps():
    gt = torch.tensor([[[1.0, 2.0, 0.0], [4.0, 0.5, 8.0]]])   # one pixel without depth
    return gt


def test_depth_pred_twice_gt():
    gt = depth_maps()
    pred = 2 * gt
    pred[gt == 0] = 123.0  # no measurement: ignored
    res = evaluate(DepthMetric(), [sample('depth', pred, gt, tasks=('depth',))])
    valid = gt[gt > 0]
    assert res['depth/abs_rel'] == pytest.approx(1.0)
    assert res['depth/rmse'] == pytest.approx(math.sqrt(float((valid**2).mean())))
    # ratio 2 > 1.25, 1.25^2 = 1.5625 and 1.25^3 = 1.953
    assert (res['depth/delta1'], res['depth/delta2'], res['depth/delta3']) == (0, 0, 0)
    pred = 1.2 * gt  # ratio 1.2: within every delta
    res = evaluate(DepthMetric(), [sample('depth', pred, gt)])
    assert (res['depth/delta1'], res['depth/delta2'], res['depth/delta3']) == (1, 1, 1)
    assert res['depth/abs_rel'] == pytest.approx(0.2)


def test_depth_pixel_and_image_reduction_and_range():
    gt_a, pred_a = torch.full((1, 2, 2), 2.0), torch.full((1, 2, 2), 3.0)   # 4 px, err 1
    gt_b, pred_b = torch.tensor([[[4.0]]]), torch.tensor([[[1.0]]])          # 1 px, err 3
    samples = [sample('depth', pred_a, gt_a), sample('depth', pred_b, gt_b)]
    pixel = evaluate(DepthMetric(), samples)
    assert pixel['depth/rmse'] == pytest.approx(math.sqrt((4 * 1 + 9) / 5))
    assert pixel['depth/abs_rel'] == pytest.approx((4 * 0.5 + 0.75) / 5)
    assert pixel['depth/delta2'] == pytest.approx(4 / 5)   # 1.5 < 1.5625; 4 > 1.953
    image = evaluate(DepthMetric(reduction='image'), samples)
    assert image['depth/rmse'] == pytest.approx((1 + 3) / 2)
    assert image['depth/abs_rel'] == pytest.approx((0.5 + 0.75) / 2)
    assert image['depth/delta2'] == pytest.approx(0.5)
    # gt 4 m beyond max_depth: only image a is left
    ranged = evaluate(DepthMetric(max_depth=3.0), samples)
    assert ranged['depth/rmse'] == pytest.approx(1.0)
    ranged = evaluate(DepthMetric(min_depth=3.0, reduction='image'), samples)
    assert ranged['depth/rmse'] == pytest.approx(3.0)
    with pytest.raises(ValueError, match='reduction'):
        DepthMetric(reduction='mean')


def test_depth_non_positive_prediction_fails_every_delta():
    gt = torch.tensor([[[1.0, 1.0]]])
    pred = torch.tensor([[[-1.0, 0.0]]])
    res = evaluate(DepthMetric(), [sample('depth', pred, gt)])
    assert res['depth/delta3'] == 0
    assert res['depth/abs_rel'] == pytest.approx(1.5)
