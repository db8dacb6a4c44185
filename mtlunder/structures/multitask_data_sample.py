"""The multi-task data sample: one image with every label it really has."""
from mmdet.structures import DetDataSample
from mmengine.structures import PixelData

#: Task names used everywhere (loss-key prefixes, ``tasks`` metainfo, neck outputs).
TASK_NAMES = ('det', 'enh', 'seg', 'depth', 'normal', 'edge', 'sal', 'parts')


class MultiTaskDataSample(DetDataSample):
    """A :class:`DetDataSample` with dense multi-task fields.

    Fields (all optional; present only where the sample is labelled for the task):
        gt_instances / pred_instances: boxes, as in mmdet (task ``det``).
        gt_clean / pred_clean: :class:`PixelData` whose ``data`` is the clean reference /
            enhanced image, float [3, H, W] (task ``enh``).
        gt_sem_seg / pred_sem_seg: :class:`PixelData`, long [1, H, W], 255 = ignore (``seg``).
        gt_depth / pred_depth: :class:`PixelData`, float [1, H, W] in metres (``depth``).
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

    def _pixel_property(name):  # noqa: N805 - helper used at class creation only
        def getter(self) -> PixelData:
            return getattr(self, f'_{name}')

        def setter(self, value: PixelData) -> None:
            self.set_field(value, f'_{name}', dtype=PixelData)

        def deleter(self) -> None:
            delattr(self, f'_{name}')

        return property(getter, setter, deleter)

    gt_clean = _pixel_property('gt_clean')
    pred_clean = _pixel_property('pred_clean')
    gt_depth = _pixel_property('gt_depth')
    pred_depth = _pixel_property('pred_depth')
    del _pixel_property
