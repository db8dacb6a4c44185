"""The one table of tasks: what each task's label is and how transforms, packing, heads and
metrics treat it. Code reads this table instead of spelling task names or fields."""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

#: kinds of label, with the interpolation a resize of that kind uses
LABEL_KINDS = dict(
    boxes=None,                # mmdet boxes; geometric transforms are mmdet's own
    image='bilinear',          # a reference image, H x W x 3, moves like the input
    label_map='nearest',       # class index per pixel (uint8), ignore value kept
    continuous_map='nearest',  # metric values per pixel (depth, metres): no mixing across
                               # object borders, so 0 (= no measurement) never blends in
    unit_vector_map='nearest',  # H x W x 3 unit vectors; renormalised after any resampling
)


@dataclass(frozen=True)
class TaskSpec:
    """One task of :data:`TASK_SPECS`.

    Attributes:
        name: the task name (loss-key prefix, ``tasks`` metainfo entry, neck output key).
        kind: one of :data:`LABEL_KINDS`.
        results_key: key of the label in a transform ``results`` dict.
        gt_field / pred_field: data-sample fields of the label and of the prediction.
        ignore_value: label value that carries no supervision (``None``: every value is a
            label; unit-vector maps mark invalid pixels with the zero vector).
        flip: ``'boxes'`` (mmdet flips them), ``'mirror'`` (mirror the map) or
            ``'mirror_negate_x'`` (mirror and negate the x component: surface normals).
    """
    name: str
    kind: str
    results_key: str
    gt_field: str
    pred_field: str
    ignore_value: Optional[float]
    flip: str

    @property
    def interpolation(self) -> Optional[str]:
        """Resize interpolation of this task's label (``None`` for boxes)."""
        return LABEL_KINDS[self.kind]

    @property
    def is_dense(self) -> bool:
        """A per-pixel label that the paired geometric transforms move with the input."""
        return self.kind != 'boxes'


TASK_SPECS: Dict[str, TaskSpec] = {spec.name: spec for spec in (
    TaskSpec('det', 'boxes', 'gt_bboxes', 'gt_instances', 'pred_instances', None, 'boxes'),
    TaskSpec('enh', 'image', 'gt_clean', 'gt_clean', 'pred_clean', None, 'mirror'),
    TaskSpec('seg', 'label_map', 'gt_seg_map', 'gt_sem_seg', 'pred_sem_seg', 255, 'mirror'),
    TaskSpec('depth', 'continuous_map', 'gt_depth', 'gt_depth', 'pred_depth', 0, 'mirror'),
    TaskSpec('normal', 'unit_vector_map', 'gt_normal', 'gt_normal', 'pred_normal', None,
             'mirror_negate_x'),
    TaskSpec('edge', 'label_map', 'gt_edge', 'gt_edge', 'pred_edge', 255, 'mirror'),
    TaskSpec('sal', 'label_map', 'gt_sal', 'gt_sal', 'pred_sal', 255, 'mirror'),
    TaskSpec('parts', 'label_map', 'gt_parts', 'gt_parts', 'pred_parts', 255, 'mirror'),
)}

#: Task names used everywhere (loss-key prefixes, ``tasks`` metainfo, neck outputs).
TASK_NAMES: Tuple[str, ...] = tuple(TASK_SPECS)
#: The class-map task whose classes are a dataset's ``classes`` (semantic segmentation);
#: the other class-map tasks name theirs in ``dataset_meta['<task>_classes']``.
SEMANTIC_TASK = 'seg'
#: The label-map task whose map marks boundaries (1 = edge), scored as edges, not classes.
EDGE_TASK = 'edge'


def tasks_of_kind(kind: str) -> Tuple[str, ...]:
    """Names of the tasks whose label is of ``kind`` (e.g. ``'boxes'``)."""
    if kind not in LABEL_KINDS:
        raise KeyError(f'unknown label kind {kind!r}; expected one of {list(LABEL_KINDS)}')
    return tuple(name for name, spec in TASK_SPECS.items() if spec.kind == kind)
