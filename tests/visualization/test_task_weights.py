"""Task-weight curves read from an mmengine scalars.json."""
import json

import pytest

from mtlunder.visualization import plot_task_weights, read_task_weights


def _run(tmp_path, records):
    vis = tmp_path / 'work' / '20261202_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    return tmp_path / 'work'


def test_weights_are_read_per_training_record_and_drawn(tmp_path):
    work = _run(tmp_path, [
        dict(loss=1.0, weight_det=0.5, weight_seg=0.5, epoch=1, iter=5, step=5),
        dict(**{'coco/bbox_mAP': 0.1}, step=1),                 # a validation record
        dict(loss=0.9, weight_det=0.7, weight_seg=0.3, epoch=2, iter=10, step=10),
    ])
    steps, weights = read_task_weights(str(next(work.glob('*/vis_data/scalars.json'))))
    assert steps == [5, 10]
    assert weights == dict(det=[0.5, 0.7], seg=[0.5, 0.3])
    out = plot_task_weights(str(work), str(tmp_path / 'w.png'))
    assert (tmp_path / 'w.png').stat().st_size > 1000 and out.endswith('w.png')


def test_a_run_without_balancer_hook_is_named(tmp_path):
    work = _run(tmp_path, [dict(loss=1.0, epoch=1, iter=5, step=5)])
    with pytest.raises(ValueError, match='add BalancerHook'):
        plot_task_weights(str(work), str(tmp_path / 'w.png'))
    with pytest.raises(FileNotFoundError, match='no <timestamp>/vis_data/scalars.json'):
        plot_task_weights(str(tmp_path), str(tmp_path / 'w.png'))
