"""Write result rows (boxes, enhanced image, dense maps) during validation / testing."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook

from mtlunder.datasets.transforms.loading import MAP_KINDS
from mtlunder.registry import HOOKS
from mtlunder.structures import TASK_SPECS


@HOOKS.register_module()
class MultiTaskVisualizationHook(Hook):
    """Save one picture row per sample: input + predicted boxes | enhanced | reference +
    true boxes (:func:`mtlunder.visualization.det_enh_grid`), or input + predicted boxes |
    predicted map | true map for a sample labelled for a dense map task (:meth:`render`).

    Args:
        draw: off by default, like mmdet's ``DetVisualizationHook``; ``tools/test.py
            --show-dir`` turns it on.
        interval: draw every ``interval``-th test/val iteration.
        score_thr: drawn predictions' minimum score.
        test_out_dir: folder (under the run's log dir unless absolute) for the pictures.
        max_images: stop after this many pictures per run (``None``: no limit).
    """

    priority = 'NORMAL'

    def __init__(self, draw: bool = False, interval: int = 1, score_thr: float = 0.3,
                 test_out_dir: str = 'vis', max_images: Optional[int] = None):
        self.draw = draw
        self.interval = interval
        self.score_thr = score_thr
        self.test_out_dir = test_out_dir
        self.max_images = max_images
        self._written = 0
        self._img_root = ''

    def before_test(self, runner) -> None:
        from mmengine.dataset import BaseDataset

        self._written = 0
        dataset = runner.test_dataloader.dataset
        # a mixture of sources (MixedMultiTaskDataset) has no image folder of its own: its
        # pictures go to <source>/ (picture_name)
        self._img_root = (dataset.data_prefix.get('img', '')
                          if isinstance(dataset, BaseDataset) else '')

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict = None,
                        outputs: Sequence = ()) -> None:
        if not self.draw or batch_idx % self.interval:
            return
        import mmcv

        out_dir = osp.join(runner.log_dir, self.test_out_dir)
        classes = runner.test_evaluator.dataset_meta.get('classes', ())
        for sample in outputs:
            if self.max_images is not None and self._written >= self.max_images:
                return
            row = self.render(sample, classes)
            mmcv.imwrite(row, osp.join(out_dir, self.picture_name(
                sample.img_path, sample.metainfo.get('source'))))
            self._written += 1

    def picture_name(self, img_path: str, source: Optional[str] = None) -> str:
        """``<path below the dataset's image folder>.png``: the sources of a mixed benchmark
        (``images/<source>/<key>``) keep their own sub-folders, so equal file names of two
        sources do not overwrite each other; a sample of a ``MixedMultiTaskDataset`` source
        (metainfo ``source``) is ``<source>/<file name>.png``."""
        if source:
            return osp.join(source, osp.splitext(osp.basename(img_path))[0] + '.png')
        rel = osp.relpath(img_path, self._img_root) if self._img_root else img_path
        if rel.startswith('..'):
            rel = osp.basename(img_path)
        return osp.splitext(rel)[0] + '.png'

    def render(self, sample, classes: Sequence[str]) -> np.ndarray:
        """The picture row of one predicted :class:`MultiTaskDataSample`: ``input +
        predicted boxes | enhanced | reference + true boxes``, or, for a sample labelled
        for a dense map task (the first of its ``tasks`` with a prediction),
        ``input + predicted boxes | predicted <task> | true <task>``."""
        import mmcv

        from mtlunder.visualization import det_enh_grid, rgb01_to_bgr_uint8

        img = mmcv.imread(sample.img_path)
        pred = gt = None
        if 'pred_instances' in sample:
            p = sample.pred_instances
            pred = dict(bboxes=p.bboxes.cpu().numpy(), labels=p.labels.cpu().numpy(),
                        scores=p.scores.cpu().numpy())
        if 'gt_instances' in sample and len(sample.gt_instances):
            g = sample.gt_instances
            boxes = getattr(g.bboxes, 'tensor', g.bboxes)  # HorizontalBoxes or Tensor
            gt = dict(bboxes=boxes.cpu().numpy(), labels=g.labels.cpu().numpy())
        dense = next((TASK_SPECS[t] for t in sample.metainfo.get('tasks', ())
                      if TASK_SPECS[t].kind in MAP_KINDS and TASK_SPECS[t].pred_field in sample),
                     None)
        if dense is not None:
            return self.render_map(img, sample, dense, pred, classes)
        ref_path = sample.metainfo.get('ref_path')
        reference = mmcv.imread(ref_path) if ref_path and osp.isfile(ref_path) else None
        enhanced = None
        if 'pred_clean' in sample:
            enhanced = rgb01_to_bgr_uint8(sample.pred_clean.data)
        return det_enh_grid(img, enhanced, reference, classes, pred=pred, gt=gt,
                            score_thr=self.score_thr)

    def render_map(self, img: np.ndarray, sample, spec, pred: Optional[dict],
                   classes: Sequence[str]) -> np.ndarray:
        """``input + predicted boxes | predicted <task> | true <task>`` of a dense map task
        (``spec``, a :data:`TASK_SPECS` entry); the maps at the original image size."""
        from mtlunder.visualization import (dense_map_picture, draw_predictions, map_range,
                                            picture_row)

        def array(data):
            data = data.detach().float().cpu().numpy()
            return data.transpose(1, 2, 0) if spec.kind == 'unit_vector_map' else data[0]

        predicted = sample.get(spec.pred_field).data
        binary = predicted.is_floating_point() and spec.kind == 'label_map'
        true = array(sample.get(spec.gt_field).data) if spec.gt_field in sample else None
        # continuous maps (depth) of both panels on the label's scale
        scale = map_range(true) if true is not None and spec.kind == 'continuous_map' else None
        left = img if pred is None else draw_predictions(img, pred, classes, self.score_thr)
        panels = [(left, 'input + predicted boxes'),
                  (dense_map_picture(array(predicted), spec.kind, spec.ignore_value, binary,
                                     scale), f'predicted {spec.name}')]
        if true is not None:
            panels.append((dense_map_picture(true, spec.kind, spec.ignore_value, binary, scale),
                           f'true {spec.name}'))
        return picture_row(panels)
