"""COCO box AP over the images labelled for detection only."""
from typing import Dict, Optional, Sequence

from mmdet.evaluation import CocoMetric
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from mtlunder.structures import TASK_NAMES

#: marker appended to ``results`` for a sample the metric does not score
_SKIPPED = 'skipped'


@METRICS.register_module()
class TaskCocoMetric(CocoMetric):
    """mmdet's :class:`~mmdet.evaluation.CocoMetric` restricted to the images labelled for
    ``task``.

    On a partially labelled benchmark (real detection images mixed with enhancement pairs,
    ``data_tools/build_underwater_benchmark.py``) the val json also lists images that have
    no detection labels; mmdet's metric would count every box predicted on them as a false
    positive. Here:

    * the COCO evaluation runs on the ``ann_file`` images whose ``tasks`` include ``task``
      (an entry without ``tasks`` follows the dataset's rule,
      :func:`~mtlunder.datasets.underwater.image_tasks`);
    * a sample whose metainfo ``tasks`` lacks ``task`` (or, without that metainfo, whose
      image is not such an entry) is skipped;
    * the numbers of scored and skipped samples are logged at every evaluation.

    Args:
        task: the task whose labels the boxes are, a name of
            :data:`~mtlunder.structures.TASK_NAMES`.
        **kwargs: the arguments of :class:`~mmdet.evaluation.CocoMetric` (keys stay
            ``coco/bbox_mAP`` etc.).
    """

    def __init__(self, task: str = 'det', **kwargs):
        super().__init__(**kwargs)
        if task not in TASK_NAMES:
            raise ValueError(f'TaskCocoMetric: task {task!r} is not one of {TASK_NAMES}')
        self.task = task
        self._labelled_ids: Optional[set] = None
        if self._coco_api is not None:
            from mtlunder.datasets.underwater import image_tasks

            self.img_ids = [img_id for img_id, info in self._coco_api.imgs.items()
                            if task in image_tasks(info)]
            self._labelled_ids = set(self.img_ids)

    def _is_labelled(self, sample: dict) -> bool:
        tasks = sample.get('tasks')
        if tasks is not None:
            return self.task in tasks
        return self._labelled_ids is None or sample['img_id'] in self._labelled_ids

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if self._is_labelled(sample):
                super().process(data_batch, [sample])
            else:
                self.results.append(_SKIPPED)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        scored = [r for r in results if r != _SKIPPED]
        logger = MMLogger.get_current_instance()
        logger.info(f'TaskCocoMetric: {len(scored)} images labelled for {self.task!r} '
                    f'scored, {len(results) - len(scored)} samples not labelled for it '
                    'skipped' + ('' if self.img_ids is None else
                                 f' ({len(self.img_ids)} such images in the ann_file)'))
        if not scored:
            logger.warning(f'TaskCocoMetric: no sample labelled for {self.task!r}; '
                           'no COCO metric is computed')
            return {}
        return super().compute_metrics(scored)
