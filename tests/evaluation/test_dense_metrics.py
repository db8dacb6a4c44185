"""SegMetric, DepthMetric, NormalMetric and EdgeMetric on hand-built maps with known answers,
and SegMetric against mmseg's IoUMetric."""
import math
from unittest import mock

import numpy as np
import pytest
import torch

from mtlunder.evaluation.metrics.dense_metrics import (DepthMetric, EdgeMetric, NormalMetric,
                                                       SegMetric, best_f, match_edges, thin)
from mtlunder.registry import METRICS
from mtlunder.structures.task_specs import TASK_SPECS

pytestmark = pytest.mark.usefixtures('single_thread')

LOGGER = 'mtlunder.evaluation.metrics.dense_metrics.MMLogger.get_current_instance'


def sample(task, pred, gt, tasks=None, img_path='img.png'):
    """A data sample as mmengine passes it to ``process`` (``to_dict()``)."""
    spec = TASK_SPECS[task]
    out = dict(img_path=img_path)
    if tasks is not None:
        out['tasks'] = tuple(tasks)
    if pred is not None:
        out[spec.pred_field] = dict(data=torch.as_tensor(pred))
    if gt is not None:
        out[spec.gt_field] = dict(data=torch.as_tensor(gt))
    return out


def evaluate(metric, samples):
    metric.process({}, samples)
    return metric.evaluate(len(samples))


# ---------------------------------------------------------------- segmentation

GT_4X4 = [[0, 0, 1, 1],
          [0, 0, 1, 1],
          [2, 2, 2, 2],
          [2, 2, 2, 255]]


def seg_4x4():
    gt = torch.tensor(GT_4X4)[None]
    pred = gt.clone()
    pred[0, 0, 0] = 1      # one class-0 pixel predicted as 1
    pred[0, 3, 3] = 0      # under the ignore pixel: not scored
    return pred, gt


def test_seg_hand_built_4x4():
    pred, gt = seg_4x4()
    res = evaluate(SegMetric(num_classes=3), [sample('seg', pred, gt, tasks=('seg',))])
    # class 0: tp 3, gt 4, pred 3 -> 3/4; class 1: tp 4, gt 4, pred 5 -> 4/5; class 2: 7/7
    assert res['seg/mIoU'] == pytest.approx((3 / 4 + 4 / 5 + 1) / 3, abs=1e-12)
    assert res['seg/aAcc'] == pytest.approx(14 / 15, abs=1e-12)  # 15 labelled pixels
    assert set(res) == {'seg/mIoU', 'seg/aAcc'}


def test_seg_absent_class_is_nan_and_left_out_predicted_only_class_counts():
    pred, gt = seg_4x4()
    # class 3 in neither labels nor predictions: NaN, left out (as mmseg's nanmean)
    res = evaluate(SegMetric(num_classes=4), [sample('seg', pred, gt)])
    assert res['seg/mIoU'] == pytest.approx((3 / 4 + 4 / 5 + 1) / 3, abs=1e-12)
    # class 3 predicted once but never labelled: IoU 0 counts
    pred[0, 2, 0] = 3
    res = evaluate(SegMetric(num_classes=4), [sample('seg', pred, gt)])
    assert res['seg/mIoU'] == pytest.approx((3 / 4 + 4 / 5 + 6 / 7 + 0) / 4, abs=1e-12)


def test_seg_num_classes_from_dataset_meta_and_other_tasks():
    pred, gt = seg_4x4()
    metric = SegMetric()
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    assert evaluate(metric, [sample('seg', pred, gt)])['seg/mIoU'] == pytest.approx(
        (3 / 4 + 4 / 5 + 1) / 3)
    with pytest.raises(ValueError, match='num_classes'):
        SegMetric(task='sal')
    with pytest.raises(ValueError, match='not one of'):
        SegMetric(task='depth')
    sal = SegMetric(task='sal', num_classes=2)  # serves saliency as a two-class map
    gt_sal = (gt == 2).long()
    gt_sal[gt == 255] = 255
    res = evaluate(sal, [sample('sal', gt_sal, gt_sal, tasks=('sal',))])
    assert res == {'sal/mIoU': 1.0, 'sal/aAcc': 1.0}


def test_seg_out_of_range_values_raise():
    pred, gt = seg_4x4()
    pred[0, 1, 1] = 3
    with pytest.raises(ValueError, match='img.png'):
        SegMetric(num_classes=3).process({}, [sample('seg', pred, gt)])


def test_seg_matches_mmseg_iou_metric():
    from mmseg.evaluation import IoUMetric

    rng = np.random.default_rng(0)
    classes = tuple(f'c{i}' for i in range(6))
    samples = []
    for h, w in ((17, 23), (32, 20), (9, 40)):
        gt = rng.choice([0, 1, 2, 4], size=(1, h, w))          # 3 and 5 never labelled
        pred = np.where(rng.random((1, h, w)) < 0.6, gt, rng.choice([0, 1, 2, 4, 5],
                                                                    size=(1, h, w)))
        gt[rng.random((1, h, w)) < 0.15] = 255                 # ignore pixels
        samples.append(sample('seg', torch.from_numpy(pred), torch.from_numpy(gt)))
    ours = SegMetric()
    ours.dataset_meta = dict(classes=classes)
    res = evaluate(ours, samples)

    # mmseg unrounded: its per-class IoU (NaN for class 3, absent everywhere) -> nanmean
    areas = [IoUMetric.intersect_and_union(s['pred_sem_seg']['data'].squeeze(),
                                           s['gt_sem_seg']['data'].squeeze(), 6, 255)
             for s in samples]
    totals = [sum(a[i] for a in areas) for i in range(4)]
    ref = IoUMetric.total_area_to_metrics(*totals, metrics=['mIoU'])
    assert np.isnan(ref['IoU'][3]) and ref['IoU'][5] == 0
    assert res['seg/mIoU'] == pytest.approx(float(np.nanmean(ref['IoU'])), abs=1e-6)
    assert res['seg/aAcc'] == pytest.approx(float(ref['aAcc']), abs=1e-6)
    # and what mmseg reports (percent, rounded to 0.01)
    mmseg_metric = IoUMetric()
    mmseg_metric.dataset_meta = dict(classes=classes)
    mmseg_metric.process({}, samples)
    reported = mmseg_metric.compute_metrics(mmseg_metric.results)
    assert abs(res['seg/mIoU'] * 100 - reported['mIoU']) <= 0.005 + 1e-9
    assert abs(res['seg/aAcc'] * 100 - reported['aAcc']) <= 0.005 + 1e-9


def test_seg_skip_counts_are_logged():
    pred, gt = seg_4x4()
    samples = [sample('seg', pred, gt, tasks=('seg', 'depth')),
               sample('seg', pred, gt),                       # no tasks metainfo: has gt
               sample('seg', pred, gt, tasks=('det',)),       # not labelled seg
               sample('seg', None, gt, tasks=('seg',)),       # no prediction
               sample('seg', pred, None, tasks=('seg',))]     # labelled, but no gt
    metric = SegMetric(num_classes=3)
    logger = mock.MagicMock()
    with mock.patch(LOGGER, return_value=logger):
        res = evaluate(metric, samples)
    assert res['seg/mIoU'] == pytest.approx((3 / 4 + 4 / 5 + 1) / 3)
    messages = ' '.join(c[0][0] for c in logger.info.call_args_list)
    assert ('2 images scored, 3 samples skipped (1 no gt_sem_seg, 1 no pred_sem_seg, '
            '1 not labelled seg)') in messages
    assert 'IoU' in messages and '0.7500' in messages  # the per-class table


def test_metrics_are_registered():
    for cfg in (dict(type='SegMetric', num_classes=3), dict(type='DepthMetric'),
                dict(type='NormalMetric'), dict(type='EdgeMetric', max_dist=0.011)):
        assert type(METRICS.build(cfg)).__name__ == cfg['type']


# ---------------------------------------------------------------- depth


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


# ---------------------------------------------------------------- normals


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


# ---------------------------------------------------------------- edges


def test_thin_reproduces_the_reference_example():
    # the example of skimage.morphology.thin (Guo-Hall, as MATLAB bwmorph 'thin')
    square = np.zeros((7, 7), dtype=bool)
    square[1:-1, 2:-2] = 1
    square[0, 1] = 1
    expected = np.zeros((7, 7), dtype=bool)
    expected[[0, 1, 2, 3, 4], [1, 2, 3, 3, 3]] = 1
    np.testing.assert_array_equal(thin(square), expected)
    line = np.zeros((9, 9), dtype=bool)
    line[:, 4] = 1
    np.testing.assert_array_equal(thin(line), line)          # one pixel wide: unchanged
    band = np.zeros((12, 15), dtype=bool)
    band[3:8, 1:14] = 1
    thinned = thin(band)
    assert thinned.sum() > 0 and not (thinned & ~band).any()
    assert (thinned.sum(0) <= 1).all()                       # one pixel per column
    np.testing.assert_array_equal(thin(thinned), thinned)


# neighbourhood codes deleted by each sub-iteration: the entries set in scikit-image's
# hard-coded G123_LUT / G123P_LUT (skimage/morphology/_skeletonize.py)
G123_DELETED = [14, 20, 22, 28, 30, 52, 54, 56, 60, 62, 80, 84, 86, 88, 92, 94, 112, 116, 118,
                120, 124, 126, 193, 208, 209, 212, 216, 217, 220, 224, 225, 240, 241, 244, 248,
                249, 252]
G123P_DELETED = [5, 7, 13, 14, 15, 28, 29, 30, 31, 65, 67, 69, 71, 77, 79, 97, 99, 101, 103,
                 131, 133, 135, 141, 143, 157, 159, 193, 195, 197, 199, 205, 207, 224, 225, 227,
                 229, 231]


def test_thin_tables_and_loop_match_skimage_formulation():
    from scipy import ndimage as ndi

    from mtlunder.evaluation.metrics.dense_metrics import _THIN_LUTS

    assert np.flatnonzero(_THIN_LUTS[0]).tolist() == G123_DELETED
    assert np.flatnonzero(_THIN_LUTS[1]).tolist() == G123P_DELETED
    mask = np.array([[8, 4, 2], [16, 0, 1], [32, 64, 128]], dtype=np.uint8)

    def reference(img):  # skimage.morphology.thin's loop
        skel, before = img.astype(np.uint8), -1
        while before != skel.sum():
            before = skel.sum()
            for lut in _THIN_LUTS:
                skel[np.take(lut, ndi.correlate(skel, mask, mode='constant'))] = 0
        return skel.astype(bool)

    rng = np.random.default_rng(1)
    for p in (0.3, 0.6, 0.9):
        blob = rng.random((25, 31)) < p
        np.testing.assert_array_equal(thin(blob), reference(blob))


def test_thin_matches_skimage_when_installed():
    morphology = pytest.importorskip('skimage.morphology')
    rng = np.random.default_rng(0)
    for _ in range(5):
        blob = rng.random((30, 40)) < 0.55
        np.testing.assert_array_equal(thin(blob), morphology.thin(blob))


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


def test_match_edges_is_a_maximum_matching():
    from scipy.optimize import linear_sum_assignment

    # greedy nearest matching pairs a with g1 (distance 0) and leaves b alone; the maximum
    # matching pairs a with g2 and b with g1
    pred = np.zeros((1, 3), dtype=bool)
    pred[0, [1, 2]] = 1          # a, b
    gt = np.zeros((1, 3), dtype=bool)
    gt[0, [0, 1]] = 1            # g2, g1
    assert match_edges(pred, gt, 1.0) == 2
    # random sparse maps against a dense assignment (cost 0 within the radius, 1 outside)
    rng = np.random.default_rng(0)
    for radius in (1.0, 1.5, 2.3):
        for _ in range(4):
            p, g = rng.random((12, 14)) < 0.25, rng.random((12, 14)) < 0.25
            d = np.hypot(*(np.argwhere(p)[:, None] - np.argwhere(g)[None]).transpose(2, 0, 1))
            cost = (d > radius + 1e-9).astype(float)
            rows, cols = linear_sum_assignment(cost)
            assert match_edges(p, g, radius) == int((cost[rows, cols] == 0).sum())


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


# ---------------------------------------------------------------- shared checks


@pytest.mark.parametrize('metric,task,channels', [
    (lambda: SegMetric(num_classes=3), 'seg', 1), (DepthMetric, 'depth', 1),
    (NormalMetric, 'normal', 3), (EdgeMetric, 'edge', 1)])
def test_size_mismatch_and_nan_raise_naming_the_image(metric, task, channels):
    gt = torch.ones(channels, 6, 8) if task in ('depth', 'normal') else torch.ones(
        1, 6, 8, dtype=torch.long)
    with pytest.raises(ValueError, match='frame_7.png.*original size'):
        metric().process({}, [sample(task, torch.zeros(channels, 6, 7), gt,
                                     img_path='frame_7.png')])
    pred = torch.zeros(channels, 6, 8)
    pred[0, 2, 3] = float('nan')
    with pytest.raises(ValueError, match='frame_7.png.*NaN'):
        metric().process({}, [sample(task, pred, gt, img_path='frame_7.png')])


@pytest.mark.parametrize('metric,task,keys', [
    (DepthMetric, 'depth', 5), (NormalMetric, 'normal', 6), (EdgeMetric, 'edge', 2)])
def test_only_skipped_samples_give_nan(metric, task, keys):
    res = evaluate(metric(), [sample(task, torch.zeros(3, 2, 2), torch.zeros(3, 2, 2),
                                     tasks=('det',))])
    assert len(res) == keys and all(math.isnan(v) for v in res.values())
