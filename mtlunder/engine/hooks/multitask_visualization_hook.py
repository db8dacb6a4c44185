"""Draw every task of each test sample, ground truth and prediction, through the
registered visualizer during testing (``tools/test.py --show-dir``)."""
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook

from mtlunder.registry import HOOKS


@HOOKS.register_module()
class MultiTaskVisualizationHook(Hook):
    """Like mmdet's ``DetVisualizationHook``: each test sample through the runner's
    visualizer (``MultiTaskLocalVisualizer``: a ground-truth row above a prediction row,
    one column per task the sample holds), saved as ``<test_out_dir>/<name>.png``.

    Args:
        draw: off by default, like mmdet's ``DetVisualizationHook``; ``tools/test.py
            --show-dir`` turns it on.
        interval: draw every ``interval``-th test iteration.
        score_thr: drawn predictions' minimum score.
        show: display each picture in a window (``tools/test.py --show``).
        wait_time: seconds each shown picture stays.
        test_out_dir: folder (under the run's log dir unless absolute) for the pictures.
        max_images: stop after this many pictures per run (``None``: no limit).
    """

    priority = 'NORMAL'

    def __init__(self, draw: bool = False, interval: int = 1, score_thr: float = 0.3,
                 show: bool = False, wait_time: float = 0., test_out_dir: str = 'vis',
                 max_images: Optional[int] = None):
        self.draw = draw
        self.interval = interval
        self.score_thr = score_thr
        self.show = show
        self.wait_time = wait_time
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
        for sample in outputs:
            if self.max_images is not None and self._written >= self.max_images:
                return
            img = mmcv.imread(sample.img_path, channel_order='rgb')
            name = self.picture_name(sample.img_path, sample.metainfo.get('source'))
            runner.visualizer.add_datasample(
                name, img, data_sample=sample, show=self.show, wait_time=self.wait_time,
                pred_score_thr=self.score_thr, out_file=osp.join(out_dir, name))
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
