"""MultiTaskDataSample: one field pair per task of the table, and the ``tasks`` metainfo."""
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData, PixelData

from mtlunder.structures import TASK_SPECS, MultiTaskDataSample


def test_is_a_det_data_sample_with_a_field_pair_per_task():
    sample = MultiTaskDataSample()
    assert isinstance(sample, DetDataSample)
    for spec in TASK_SPECS.values():
        for name in (spec.gt_field, spec.pred_field):
            assert isinstance(getattr(MultiTaskDataSample, name), property), name
            assert name not in sample


@pytest.mark.parametrize('task', [t for t, s in TASK_SPECS.items() if s.is_dense])
def test_dense_fields_hold_pixel_data_only(task):
    spec = TASK_SPECS[task]
    sample = MultiTaskDataSample()
    data = PixelData(data=torch.zeros(1, 4, 5))
    setattr(sample, spec.gt_field, data)
    assert spec.gt_field in sample and getattr(sample, spec.gt_field) is data
    delattr(sample, spec.gt_field)
    assert spec.gt_field not in sample
    with pytest.raises(AssertionError):
        setattr(sample, spec.pred_field, torch.zeros(1, 4, 5))


def test_box_fields_are_mmdets():
    sample = MultiTaskDataSample()
    sample.gt_instances = InstanceData(bboxes=torch.zeros(0, 4))
    assert 'gt_instances' in sample


def test_tasks_metainfo_is_a_tuple_defaulting_to_empty():
    sample = MultiTaskDataSample()
    assert sample.tasks == () and not sample.has_task('det')
    sample.set_metainfo(dict(tasks=['det', 'enh']))
    assert sample.tasks == ('det', 'enh')
    assert sample.has_task('enh') and not sample.has_task('seg')
    assert 'tasks' in sample.metainfo_keys()
    del sample.tasks
    assert sample.tasks == ()


def test_tasks_survive_a_copy_and_new():
    sample = MultiTaskDataSample(metainfo=dict(tasks=('det', )))
    sample.gt_clean = PixelData(data=torch.ones(3, 2, 2))
    copy = sample.clone()
    assert copy.tasks == ('det', ) and torch.equal(copy.gt_clean.data, sample.gt_clean.data)
    assert sample.new().tasks == ('det', )
