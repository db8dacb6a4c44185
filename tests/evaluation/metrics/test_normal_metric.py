"""NormalMetric on hand-built normal maps with known answers."""
import math

import numpy as np
import pytest
import torch

from mtlunder.evaluation.metrics.normal_metric import NormalMetric
from tests.evaluation.metrics.dense_samples import evaluate, sample

pytestmark = pytest.mark.usefixtures('single_thread')


def rotated_normals(angles_deg, seed=0):
    """Random unit gt normals [3, 1, n] and predictions at the given angle from each (scaled
    by random positive factors: the metric must normalise)."""
    rng = np.random.default_rng(seed)
    n = len(angles_deg)
    g = rng.normal(size=(n, 3))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    u = np.cross(g, rng.normal(size=(n, 3)))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))[:, None]
    p = (np.cos(a) * g + np.sin(a) * u) * rng.uniform(0.2, 3.0, size=(n, 1))
    return torch.from_numpy(p.T.reshape(3, 1, n)), torch.from_numpy(g.T.reshape(3, 1, n))


def test_normal_known_rotation():
    pred, gt = rotated_normals([17.0] * 30)
    res = evaluate(NormalMetric(), [sample('normal', pred.float(), gt.float(),
                                           tasks=('normal',))])
    assert res['normal/mean'] == pytest.approx(17.0, abs=1e-3)   # float32 inputs
    assert res['normal/rmse'] == pytest.approx(17.0, abs=1e-3)
    assert res['normal/median'] == pytest.approx(17.0, abs=0.005 + 1e-3)
    assert (res['normal/11.25'], res['normal/22.5'], res['normal/30']) == (0, 1, 1)


def test_normal_statistics_over_the_set_and_invalid_pixels():
    angles_a = [3.0, 10.0, 12.0, 25.0, 29.0, 31.0, 90.0, 170.0]
    angles_b = [0.5, 11.0, 44.0, 60.0, 179.5]
    pred_a, gt_a = rotated_normals(angles_a, seed=1)
    pred_b, gt_b = rotated_normals(angles_b, seed=2)
    # two invalid pixels (zero gt vector) in b with garbage predictions
    gt_b = torch.cat([gt_b, torch.zeros(3, 1, 2)], 2)
    pred_b = torch.cat([pred_b, torch.ones(3, 1, 2)], 2)
    res = evaluate(NormalMetric(), [sample('normal', pred_a, gt_a),
                                    sample('normal', pred_b, gt_b)])
    every = np.array(angles_a + angles_b)
    assert res['normal/mean'] == pytest.approx(every.mean(), abs=1e-9)
    assert res['normal/rmse'] == pytest.approx(math.sqrt((every**2).mean()), abs=1e-9)
    assert res['normal/median'] == pytest.approx(np.median(every), abs=0.005 + 1e-9)
    assert res['normal/11.25'] == pytest.approx(np.mean(every < 11.25))
    assert res['normal/22.5'] == pytest.approx(np.mean(every < 22.5))
    assert res['normal/30'] == pytest.approx(np.mean(every < 30))
    # an even number of angles: mean of the two middle ones
    res = evaluate(NormalMetric(), [sample('normal', *rotated_normals([10.0, 20.0, 30.0, 40.0]))])
    assert res['normal/median'] == pytest.approx(25.0, abs=0.005)


def test_normal_zero_prediction_counts_as_90_degrees():
    gt = torch.tensor([0.0, 0.0, 1.0]).view(3, 1, 1).expand(3, 1, 2).clone()
    pred = torch.tensor([[[0.0, 0.0]], [[0.0, 0.0]], [[0.0, 2.0]]])
    res = evaluate(NormalMetric(), [sample('normal', pred, gt)])
    assert res['normal/mean'] == pytest.approx(45.0)
