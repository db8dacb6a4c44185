"""Checks shared by the dense metrics (SegMetric, DepthMetric, NormalMetric, EdgeMetric):
registration, size / NaN errors naming the image, NaN when every sample is skipped."""
import math

import pytest
import torch

from mtlunder.evaluation.metrics import DepthMetric, EdgeMetric, NormalMetric, SegMetric
from mtlunder.registry import METRICS
from tests.evaluation.metrics.dense_samples import evaluate, sample

pytestmark = pytest.mark.usefixtures('single_thread')


def test_metrics_are_registered():
    for cfg in (dict(type='SegMetric', num_classes=3), dict(type='DepthMetric'),
                dict(type='NormalMetric'), dict(type='EdgeMetric', max_dist=0.011)):
        assert type(METRICS.build(cfg)).__name__ == cfg['type']


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
