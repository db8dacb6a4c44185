"""SegMetric on hand-built maps with known answers and against mmseg's IoUMetric."""
from unittest import mock

import numpy as np
import pytest
import torch

from mtlunder.evaluation.metrics.seg_metric import SegMetric
from tests.evaluation.metrics.dense_samples import LOGGER, evaluate, sample

pytestmark = pytest.mark.usefixtures('single_thread')


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
    with pytest.raises(ValueError, match='scored by EdgeMetric'):
        SegMetric(task='edge', num_classes=2)  # a label map, but of boundaries
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
