"""The multi-task data sample: one image with every label it really has."""
from mmdet.structures import DetDataSample
from mmengine.structures import PixelData

from .task_specs import TASK_SPECS


class MultiTaskDataSample(DetDataSample):
    """A :class:`DetDataSample` with dense multi-task fields.

    Fields (all optional; present only where the sample is labelled for the task), one pair
    per task of :data:`~mtlunder.structures.TASK_SPECS` (``gt_field`` / ``pred_field``):
        gt_instances / pred_instances: boxes, as in mmdet (task ``det``).
        gt_clean / pred_clean: :class:`PixelData` whose ``data`` is the clean reference /
            enhanced image, float [3, H, W] (task ``enh``).
        gt_sem_seg / pred_sem_seg: :class:`PixelData`, long [1, H, W], 255 = ignore (``seg``).
        gt_depth / pred_depth: :class:`PixelData`, float [1, H, W] in metres, 0 = no
            measurement (``depth``).
        gt_normal / pred_normal: :class:`PixelData`, float [3, H, W] unit vectors, zero =
            invalid (``normal``).
        gt_edge, gt_sal, gt_parts / pred_*: :class:`PixelData`, [1, H, W] maps, 255 =
            ignore (``edge``, ``sal``, ``parts``).
    Metainfo ``tasks``: tuple of the task names this sample is labelled for, set with
    ``set_metainfo(dict(tasks=...))``; ``()`` when never set.
    """

    # ``tasks`` is a metainfo field behind a property: mmengine's ``set_field`` assigns it
    # through the setter, so the value lives in the instance dict under its own name.
    @property
    def tasks(self) -> tuple:
        return self.__dict__.get('tasks', ())

    @tasks.setter
    def tasks(self, value) -> None:
        self.__dict__['tasks'] = tuple(value)

    @tasks.deleter
    def tasks(self) -> None:
        del self.__dict__['tasks']

    def has_task(self, task: str) -> bool:
        return task in self.tasks


def _pixel_property(name: str) -> property:
    """A :class:`PixelData` field stored as ``_<name>``, as mmdet's ``gt_sem_seg``."""
    def getter(self) -> PixelData:
        return getattr(self, f'_{name}')

    def setter(self, value: PixelData) -> None:
        self.set_field(value, f'_{name}', dtype=PixelData)

    def deleter(self) -> None:
        delattr(self, f'_{name}')

    return property(getter, setter, deleter)


for _spec in TASK_SPECS.values():
    for _name in (_spec.gt_field, _spec.pred_field):
        if _spec.is_dense and not hasattr(DetDataSample, _name):
            setattr(MultiTaskDataSample, _name, _pixel_property(_name))
