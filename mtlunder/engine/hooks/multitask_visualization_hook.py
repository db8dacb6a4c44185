"""Write ``input | enhanced | reference`` rows with boxes during validation / testing."""
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook

from mtlunder.registry import HOOKS


@HOOKS.register_module()
class MultiTaskVisualizationHook(Hook):
    """Save one picture row per sample: input + predicted boxes | enhanced | reference +
    true boxes (:func:`mtlunder.visualization.det_enh_grid`).

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
        self._written = 0
        self._img_root = runner.test_dataloader.dataset.data_prefix.get('img', '')

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
            mmcv.imwrite(row, osp.join(out_dir, self.picture_name(sample.img_path)))
            self._written += 1

    def picture_name(self, img_path: str) -> str:
        """``<path below the dataset's image folder>.png``: the sources of a mixed benchmark
        (``images/<source>/<key>``) keep their own sub-folders, so equal file names of two
        sources do not overwrite each other."""
        rel = osp.relpath(img_path, self._img_root) if self._img_root else img_path
        if rel.startswith('..'):
            rel = osp.basename(img_path)
        return osp.splitext(rel)[0] + '.png'

    def render(self, sample, classes: Sequence[str]) -> np.ndarray:
        """The picture row of one predicted :class:`MultiTaskDataSample`."""
        import mmcv

        from mtlunder.visualization import det_enh_grid, rgb01_to_bgr_uint8

        img = mmcv.imread(sample.img_path)
        ref_path = sample.metainfo.get('ref_path')
        reference = mmcv.imread(ref_path) if ref_path and osp.isfile(ref_path) else None
        enhanced = None
        if 'pred_clean' in sample:
            enhanced = rgb01_to_bgr_uint8(sample.pred_clean.data)
        pred = gt = None
        if 'pred_instances' in sample:
            p = sample.pred_instances
            pred = dict(bboxes=p.bboxes.cpu().numpy(), labels=p.labels.cpu().numpy(),
                        scores=p.scores.cpu().numpy())
        if 'gt_instances' in sample and len(sample.gt_instances):
            g = sample.gt_instances
            boxes = getattr(g.bboxes, 'tensor', g.bboxes)  # HorizontalBoxes or Tensor
            gt = dict(bboxes=boxes.cpu().numpy(), labels=g.labels.cpu().numpy())
        return det_enh_grid(img, enhanced, reference, classes, pred=pred, gt=gt,
                            score_thr=self.score_thr)
