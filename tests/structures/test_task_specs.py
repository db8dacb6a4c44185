"""The task table: one entry per task, consistent fields, lookups by label kind."""
import dataclasses

import pytest

from mtlunder.structures.task_specs import (EDGE_TASK, LABEL_KINDS, SEMANTIC_TASK,
                                            TASK_NAMES, TASK_SPECS, TaskSpec, tasks_of_kind)


def test_every_entry_is_keyed_by_its_name_and_of_a_known_kind():
    assert TASK_NAMES == tuple(TASK_SPECS)
    for name, spec in TASK_SPECS.items():
        assert isinstance(spec, TaskSpec) and spec.name == name
        assert spec.kind in LABEL_KINDS
        assert spec.flip in ('boxes', 'mirror', 'mirror_negate_x')


def test_fields_are_distinct_across_tasks():
    for field in ('results_key', 'gt_field', 'pred_field'):
        values = [getattr(spec, field) for spec in TASK_SPECS.values()]
        assert len(set(values)) == len(values), field


def test_interpolation_and_density_follow_the_kind():
    for spec in TASK_SPECS.values():
        assert spec.interpolation == LABEL_KINDS[spec.kind]
        assert spec.is_dense == (spec.kind != 'boxes')
        assert (spec.flip == 'boxes') == (spec.kind == 'boxes')
    assert TASK_SPECS['normal'].flip == 'mirror_negate_x'


def test_tasks_of_kind_partitions_the_table():
    by_kind = {kind: tasks_of_kind(kind) for kind in LABEL_KINDS}
    assert sorted(t for tasks in by_kind.values() for t in tasks) == sorted(TASK_NAMES)
    assert by_kind['boxes'] == ('det', ) and by_kind['image'] == ('enh', )
    with pytest.raises(KeyError, match="unknown label kind 'mask'"):
        tasks_of_kind('mask')


def test_named_class_map_tasks_are_label_maps():
    assert TASK_SPECS[SEMANTIC_TASK].kind == 'label_map'
    assert TASK_SPECS[EDGE_TASK].kind == 'label_map'


def test_specs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TASK_SPECS['det'].kind = 'image'
