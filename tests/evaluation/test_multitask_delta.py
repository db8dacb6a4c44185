"""delta_m against recorded (fake) single-task runs, by hand, and MultiTaskDeltaMetric end to
end on a tiny evaluator."""
import json
import math

import pytest
import torch

from mtlunder.evaluation.multitask_delta import (delta_m, fill_missing, relative_changes,
                                                 select_baselines, task_deltas)
from mtlunder.evaluation.single_task_results import (load_single_task_results,
                                                     record_single_task)
from tests.fixtures.work_dirs import write_run

pytestmark = pytest.mark.usefixtures('single_thread')


@pytest.fixture
def recorded(tmp_path):
    """Three fake single-task runs; ``best`` and ``last`` records differ for seg and depth."""
    det = write_run(tmp_path / 'det', ['det'], {1: {'coco/bbox_mAP': 0.40}}, best=1)
    seg = write_run(tmp_path / 'seg', ['seg'], {
        1: {'seg/mIoU': 0.30, 'seg/aAcc': 0.6},
        2: {'seg/mIoU': 0.50, 'seg/aAcc': 0.7},
        3: {'seg/mIoU': 0.45, 'seg/aAcc': 0.8}}, best=2)
    depth = write_run(tmp_path / 'depth', ['depth'], {
        1: {'depth/rmse': 0.90, 'depth/abs_rel': 0.25},
        2: {'depth/rmse': 0.80, 'depth/abs_rel': 0.20},
        3: {'depth/rmse': 0.85, 'depth/abs_rel': 0.22}}, best=2)
    paths = {}
    for selection in ('best', 'last'):
        paths[selection] = tmp_path / f'{selection}.json'
        record_single_task([det, seg, depth], str(paths[selection]), selection,
                           show_progress=False)
    return paths


DELTA_KEYS = dict(det=['coco/bbox_mAP'], seg=['seg/mIoU'], depth=['depth/rmse', 'depth/abs_rel'])
MULTI = {'coco/bbox_mAP': 0.42, 'seg/mIoU': 0.45, 'depth/rmse': 0.72, 'depth/abs_rel': 0.21,
         'seg/aAcc': 0.1}


def test_delta_m_on_recorded_runs_equals_the_formula(recorded):
    baselines = select_baselines(load_single_task_results(str(recorded['best'])), DELTA_KEYS)
    assert baselines == {'det': {'coco/bbox_mAP': 0.40}, 'seg': {'seg/mIoU': 0.50},
                         'depth': {'depth/rmse': 0.80, 'depth/abs_rel': 0.20}}
    changes = relative_changes(MULTI, baselines)
    # det +0.02/0.40; seg -0.05/0.50; depth rmse lower is better: -(0.72-0.80)/0.80 = +0.10,
    # abs_rel -(0.21-0.20)/0.20 = -0.05
    assert changes['det']['coco/bbox_mAP'] == pytest.approx(0.05)
    assert changes['seg']['seg/mIoU'] == pytest.approx(-0.10)
    assert changes['depth']['depth/rmse'] == pytest.approx(0.10)
    assert changes['depth']['depth/abs_rel'] == pytest.approx(-0.05)
    assert task_deltas(changes)['depth'] == pytest.approx(0.025)
    assert delta_m(MULTI, baselines) == pytest.approx((0.05 - 0.10 + 0.025) / 3)

    # the last checkpoints' records: seg 0.45 (no change), depth 0.85 / 0.22
    last = select_baselines(load_single_task_results(str(recorded['last'])), DELTA_KEYS)
    depth = (-(0.72 - 0.85) / 0.85 - (0.21 - 0.22) / 0.22) / 2
    assert delta_m(MULTI, last) == pytest.approx((0.05 + 0.0 + depth) / 3)


def test_missing_keys_and_baseline_errors(recorded):
    results = load_single_task_results(str(recorded['best']))
    baselines = select_baselines(results, DELTA_KEYS)
    # CocoMetric reports nothing without a box: mAP counts as 0, i.e. -100 %
    values, missing = fill_missing({k: v for k, v in MULTI.items() if k != 'coco/bbox_mAP'},
                                   baselines)
    assert missing == ['coco/bbox_mAP'] and values['coco/bbox_mAP'] == 0.0
    assert relative_changes(values, baselines)['det']['coco/bbox_mAP'] == -1.0
    values, missing = fill_missing({k: v for k, v in MULTI.items() if k != 'depth/rmse'},
                                   baselines)
    assert missing == ['depth/rmse'] and math.isnan(delta_m(values, baselines))

    with pytest.raises(KeyError, match="no recorded single-task run of task 'normal'"):
        select_baselines(results, dict(normal=['normal/mean']))
    with pytest.raises(KeyError, match="did not report 'depth/delta1'"):
        select_baselines(results, dict(depth=['depth/delta1']))
    with pytest.raises(KeyError, match="'seg/confusion'"):
        select_baselines(results, dict(seg=['seg/confusion']))
    with pytest.raises(ValueError, match='non-empty list'):
        select_baselines(results, dict(seg='seg/mIoU'))
    results['tasks']['seg']['metrics']['seg/mIoU'] = 0.0
    with pytest.raises(ValueError, match='undefined'):
        select_baselines(results, dict(seg=['seg/mIoU']))


def _sample():
    """One 2x2 image labelled for seg and depth, predictions with known scores:
    seg IoU (1/2 + 2/3) / 2 = 7/12; depth errors +-0.2 m on 2 m: rmse 0.2, abs_rel 0.1."""
    return dict(img_path='a.png', tasks=('seg', 'depth'),
                gt_sem_seg=dict(data=torch.tensor([[[0, 1], [0, 1]]])),
                pred_sem_seg=dict(data=torch.tensor([[[0, 1], [1, 1]]])),
                gt_depth=dict(data=torch.full((1, 2, 2), 2.0)),
                pred_depth=dict(data=torch.tensor([[[2.2, 1.8], [2.2, 1.8]]])))


def test_delta_metric_end_to_end_on_a_tiny_evaluator(tmp_path):
    from mmengine.evaluator import Evaluator

    from mtlunder.utils import register_all_modules

    register_all_modules()
    write_run(tmp_path / 'seg', ['seg'], {1: {'seg/mIoU': 0.5}}, best=1)
    write_run(tmp_path / 'depth', ['depth'], {1: {'depth/rmse': 0.25, 'depth/abs_rel': 0.1}},
              best=1)
    results = str(tmp_path / 'single_task_results.json')
    record_single_task([tmp_path / 'seg', tmp_path / 'depth'], results, show_progress=False)
    metrics = [dict(type='SegMetric', num_classes=2), dict(type='DepthMetric')]
    evaluator = Evaluator(dict(type='MultiTaskDeltaMetric', metrics=metrics,
                               single_task_results=results,
                               delta_keys=dict(seg=['seg/mIoU'], depth=['depth/rmse'])))
    evaluator.dataset_meta = dict(classes=('a', 'b'))
    assert evaluator.metrics[0].metrics[0].dataset_meta == dict(classes=('a', 'b'))
    evaluator.process([_sample()], {})
    res = evaluator.evaluate(1)
    assert res['seg/mIoU'] == pytest.approx(7 / 12) and res['depth/rmse'] == pytest.approx(0.2)
    assert res['multitask/delta_seg'] == pytest.approx((7 / 12 - 0.5) / 0.5)
    assert res['multitask/delta_depth'] == pytest.approx(-(0.2 - 0.25) / 0.25)
    assert res['multitask/delta_m'] == pytest.approx(((7 / 12 - 0.5) / 0.5 + 0.2) / 2)
    assert {k for k in res if k.startswith('multitask/')} == {
        'multitask/delta_m', 'multitask/delta_seg', 'multitask/delta_depth'}


def test_delta_metric_build_errors(tmp_path):
    from mtlunder.registry import METRICS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    missing = str(tmp_path / 'nowhere' / 'single_task_results.json')
    with pytest.raises(FileNotFoundError,
                       match=r'nowhere/single_task_results\.json.*python tools/analysis/'
                             r'record_single_task\.py WORK_DIR'):
        METRICS.build(dict(type='MultiTaskDeltaMetric', metrics=[dict(type='DepthMetric')],
                           single_task_results=missing, delta_keys=dict(depth=['depth/rmse'])))
    typed = tmp_path / 'typed.json'
    typed.write_text(json.dumps(dict(depth={'depth/rmse': 0.3})))   # not a recorded file
    with pytest.raises(ValueError, match='format_version'):
        METRICS.build(dict(type='MultiTaskDeltaMetric', metrics=[dict(type='DepthMetric')],
                           single_task_results=str(typed), delta_keys=dict(depth=['depth/rmse'])))
    write_run(tmp_path / 'depth', ['depth'], {1: {'depth/rmse': 0.25}}, best=1)
    results = str(tmp_path / 'results.json')
    record_single_task([tmp_path / 'depth'], results, show_progress=False)
    twice = METRICS.build(dict(type='MultiTaskDeltaMetric', single_task_results=results,
                               metrics=[dict(type='DepthMetric'), dict(type='DepthMetric')],
                               delta_keys=dict(depth=['depth/rmse'])))
    twice.process({}, [_sample()])
    with pytest.raises(ValueError, match="MultiTaskDeltaMetric: two metrics report 'depth/rmse'"):
        twice.evaluate(1)
