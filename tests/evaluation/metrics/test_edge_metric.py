"""EdgeMetric (ODS / OIS F-measures) on hand-built edge maps with known answers."""
import numpy as np
import pytest
import torch

from mtlunder.evaluation.functional import match_edges, thin
from mtlunder.evaluation.metrics.edge_metric import EdgeMetric, best_f
from tests.evaluation.metrics.dense_samples import evaluate, sample

pytestmark = pytest.mark.usefixtures('single_thread')


def edge_maps(columns, shape=(20, 20), value=1.0):
    m = np.zeros(shape)
    for c in columns:
        m[:, c] = value
    return m


def edge_sample(pred, gt, **kw):
    return sample('edge', torch.from_numpy(pred).float()[None],
                  torch.from_numpy(gt).to(torch.uint8)[None], **kw)


def test_edge_identical_shifted_and_half():
    gt = edge_maps([5, 14]).astype(np.uint8)
    res = evaluate(EdgeMetric(), [edge_sample(gt.astype(float), gt, tasks=('edge',))])
    assert res == {'edge/odsF': 1.0, 'edge/oisF': 1.0}
    shifted = edge_maps([6, 15])
    # 20x20: diagonal 28.28 px; 0.05 of it is 1.41 px >= the 1 px shift
    assert evaluate(EdgeMetric(max_dist=0.05), [edge_sample(shifted, gt)])['edge/odsF'] == 1.0
    assert evaluate(EdgeMetric(max_dist=0.0), [edge_sample(shifted, gt)])['edge/odsF'] == 0.0
    # half the edges: P = 1, R = 1/2 -> F = 2/3
    half = evaluate(EdgeMetric(), [edge_sample(edge_maps([5]), gt)])
    assert half['edge/odsF'] == pytest.approx(2 / 3)


def test_edge_one_to_one_matching():
    # two predicted lines next to one labelled line: only one can match (one-to-one)
    gt = edge_maps([10]).astype(np.uint8)
    res = evaluate(EdgeMetric(max_dist=0.05), [edge_sample(edge_maps([9, 11]), gt)])
    assert res['edge/odsF'] == pytest.approx(2 * 0.5 * 1 / 1.5)    # P 1/2, R 1
    assert match_edges(edge_maps([9, 11]) > 0, gt > 0, 1.0) == 20
    assert match_edges(edge_maps([9, 11]) > 0, gt > 0, 0.9) == 0


def test_edge_ods_and_ois_by_hand():
    # thresholds 0.25, 0.5, 0.75; a radius well under one pixel (exact positions)
    gt_a, gt_b = edge_maps([2]).astype(np.uint8), edge_maps([5]).astype(np.uint8)
    pred_a = edge_maps([2], value=0.6) + edge_maps([12], value=0.9)   # spurious line 12
    pred_b = edge_maps([5], value=0.8) + edge_maps([15], value=0.6)   # spurious line 15
    metric = EdgeMetric(max_dist=0.01, num_thresholds=3, interpolate=False)
    res = evaluate(metric, [edge_sample(pred_a, gt_a), edge_sample(pred_b, gt_b)])
    # set: t=.25 and .5: 40 matched / 80 predicted, R 1 -> 2/3; t=.75: 20/40, R 1/2 -> 1/2
    assert res['edge/odsF'] == pytest.approx(2 / 3)
    # per image: a best at t=.5 (20/40), b at t=.75 (20/20) -> 40/60, R 1 -> 0.8
    assert res['edge/oisF'] == pytest.approx(0.8)
    interpolated = EdgeMetric(max_dist=0.01, num_thresholds=3)
    res = evaluate(interpolated, [edge_sample(pred_a, gt_a), edge_sample(pred_b, gt_b)])
    assert res['edge/odsF'] == pytest.approx(2 / 3)


def test_best_f_interpolates_like_bsds():
    f, t, p, r = best_f(np.array([0.25, 0.75]), np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    d = 49 / 99  # linspace(0, 1, 100) points nearest 1/2: 49/99 and 50/99 (a tie)
    assert f == pytest.approx(2 * d * (1 - d), abs=1e-12)
    assert min(abs(t - 0.25 - 0.5 * d), abs(t - 0.25 - 0.5 * (1 - d))) < 1e-12
    assert best_f(np.array([0.25, 0.75]), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                  interpolate=False)[0] == 0.0


def test_edge_thick_prediction_is_thinned_and_ignore_pixels_are_dropped():
    gt = edge_maps([10]).astype(np.uint8)
    thick = edge_maps([9, 10, 11], value=0.7)          # a 3-pixel band around the edge
    centre = np.zeros((20, 20), dtype=bool)
    centre[1:19, 10] = 1                                # the band's ends erode by one row
    np.testing.assert_array_equal(thin(thick > 0), centre)
    res = evaluate(EdgeMetric(max_dist=0.05), [edge_sample(thick, gt)])
    assert res['edge/odsF'] == pytest.approx(2 * 0.9 / 1.9)   # P 1, R 18/20
    # unthinned: 60 predicted pixels for 20 labelled ones, P 1/3, R 1 -> 1/2
    unthinned = evaluate(EdgeMetric(max_dist=0.05, thin_pred=False), [edge_sample(thick, gt)])
    assert unthinned['edge/odsF'] == pytest.approx(0.5)
    # a spurious line under ignore pixels is neither a hit nor a false alarm
    gt_ignore = gt.copy()
    gt_ignore[:, 15:18] = 255
    pred = edge_maps([10, 16])
    assert evaluate(EdgeMetric(), [edge_sample(pred, gt_ignore)])['edge/odsF'] == 1.0
    assert evaluate(EdgeMetric(), [edge_sample(pred, gt)])['edge/odsF'] == pytest.approx(2 / 3)


def test_edge_invalid_values_raise():
    gt = edge_maps([5]).astype(np.uint8)
    with pytest.raises(ValueError, match='probabilities'):
        EdgeMetric().process({}, [edge_sample(edge_maps([5], value=3.0), gt)])
    with pytest.raises(ValueError, match='gt_edge'):
        EdgeMetric().process({}, [edge_sample(edge_maps([5]), gt * 2)])
