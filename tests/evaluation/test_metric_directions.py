"""The metric-direction table covers the keys mtlunder's metrics really report."""
import pytest

from mtlunder.evaluation.metric_directions import METRIC_DIRECTIONS, lower_is_better
from mtlunder.evaluation.metrics import (DepthMetric, EdgeMetric, EnhancementMetric,
                                         NormalMetric, SaliencyMetric, SegMetric,
                                         UnderwaterQualityMetric)


@pytest.mark.parametrize('metric', [
    SegMetric(num_classes=2), SegMetric(task='parts', num_classes=3), DepthMetric(),
    NormalMetric(), EdgeMetric(), SaliencyMetric(), EnhancementMetric(),
    UnderwaterQualityMetric()], ids=lambda m: f'{type(m).__name__}-{m.prefix}')
def test_every_reported_key_has_a_direction(metric):
    # with nothing to score each metric still reports all its keys (NaN)
    keys = [f'{metric.prefix}/{k}' for k in metric.compute_metrics([])]
    assert keys
    for key in keys:
        if key.split('/')[1].startswith('input_'):  # scores of the input, not of a model
            with pytest.raises(KeyError, match=key):
                lower_is_better(key)
            continue
        assert lower_is_better(key) == (key in {'depth/rmse', 'depth/abs_rel', 'normal/mean',
                                                'normal/median', 'normal/rmse'}), key


def test_directions_of_named_keys_and_unknown_key():
    assert not lower_is_better('coco/bbox_mAP') and not lower_is_better('coco/bbox_mAP_50')
    assert lower_is_better('depth/rmse') and not lower_is_better('depth/delta1')
    assert not lower_is_better('normal/11.25') and lower_is_better('normal/median')
    assert not lower_is_better('edge/odsF') and not lower_is_better('sal/maxF')
    assert set(METRIC_DIRECTIONS.values()) == {'higher', 'lower'}
    with pytest.raises(KeyError, match="'depth/log_rmse'"):
        lower_is_better('depth/log_rmse')
