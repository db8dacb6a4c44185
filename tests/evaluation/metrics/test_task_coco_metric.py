"""TaskCocoMetric: COCO box AP over the images labelled for detection only."""
import json

import pytest
import torch
from mmengine.logging import MMLogger

from mtlunder.evaluation.metrics import TaskCocoMetric

CLASSES = ('holothurian', 'echinus')
#: img_id -> (tasks, true boxes xyxy with labels); 1-3 detection images, 4-5 enhancement pairs
IMAGES = {
    1: (['det'], [([10, 10, 40, 50], 0), ([60, 20, 90, 70], 1)]),
    2: (['det'], [([5, 5, 30, 30], 1)]),
    3: (None, [([20, 30, 70, 80], 0)]),           # no `tasks`: a plain COCO detection image
    4: (['enh'], []),
    5: (['enh'], []),
}


@pytest.fixture
def mixed_val(tmp_path):
    images, anns = [], []
    for img_id, (tasks, boxes) in IMAGES.items():
        entry = dict(id=img_id, file_name=f'{img_id}.jpg', width=100, height=100)
        if tasks is not None:
            entry['tasks'] = tasks
        if tasks == ['enh']:
            entry['reference'] = f'{img_id}.jpg'
        images.append(entry)
        for (x1, y1, x2, y2), label in boxes:
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=label + 1,
                             bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1),
                             iscrowd=0))
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(dict(
        images=images, annotations=anns,
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)])))
    return str(path)


def _samples(with_tasks_meta=True):
    """Predictions equal to the true boxes (score 0.9) on the detection images; arbitrary
    boxes scored higher (1.0) on the enhancement-only images."""
    out = []
    for img_id, (tasks, boxes) in IMAGES.items():
        if boxes:
            bboxes = [b for b, _ in boxes]
            labels = [lab for _, lab in boxes]
            score = 0.9
        else:
            bboxes, labels, score = [[0, 0, 50, 50], [40, 40, 95, 95]], [0, 1], 1.0
        sample = dict(img_id=img_id, ori_shape=(100, 100), pred_instances=dict(
            bboxes=torch.tensor(bboxes, dtype=torch.float32),
            scores=torch.full((len(bboxes), ), score), labels=torch.tensor(labels)))
        if with_tasks_meta:
            sample['tasks'] = tuple(tasks) if tasks is not None else ('det', )
        out.append(sample)
    return out


def _evaluate(metric, samples):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('with_tasks_meta', [True, False])
def test_only_detection_images_are_scored(mixed_val, with_tasks_meta):
    result = _evaluate(TaskCocoMetric(ann_file=mixed_val, metric='bbox'),
                       _samples(with_tasks_meta))
    assert result['coco/bbox_mAP'] == pytest.approx(1.0)
    assert result['coco/bbox_mAP_50'] == pytest.approx(1.0)


def test_plain_coco_metric_is_biased_by_enhancement_only_images(mixed_val):
    from mmdet.evaluation import CocoMetric

    result = _evaluate(CocoMetric(ann_file=mixed_val, metric='bbox'), _samples())
    assert result['coco/bbox_mAP'] < 0.9   # the bias TaskCocoMetric removes


def test_counts_are_logged(mixed_val, tmp_path):
    logger = MMLogger.get_instance('task_coco_counts', log_file=str(tmp_path / 'log.txt'))
    metric = TaskCocoMetric(ann_file=mixed_val, metric='bbox')
    assert sorted(metric.img_ids) == [1, 2, 3]
    _evaluate(metric, _samples())
    for handler in logger.handlers:
        handler.flush()
    log = (tmp_path / 'log.txt').read_text()
    assert "3 images labelled for 'det' scored, 2 samples not labelled for it skipped" in log


def test_without_ann_file_the_skipped_samples_stay_out_of_the_ground_truth():
    samples = _samples()
    for s in samples:
        tasks, boxes = IMAGES[s['img_id']]
        s['instances'] = [dict(bbox=b, bbox_label=lab, ignore_flag=0) for b, lab in boxes]
    result = _evaluate(TaskCocoMetric(metric='bbox'), samples)
    assert result['coco/bbox_mAP'] == pytest.approx(1.0)


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="task 'boxes' is not one of"):
        TaskCocoMetric(task='boxes')


def test_no_labelled_sample_reports_nothing(mixed_val):
    samples = [s for s in _samples() if s['img_id'] in (4, 5)]
    assert _evaluate(TaskCocoMetric(ann_file=mixed_val, metric='bbox'), samples) == {}
