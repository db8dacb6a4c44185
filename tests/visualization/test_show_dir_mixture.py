"""``tools/test.py --show-dir`` on the VOC + NYUD-v2 mixture (``MixedMultiTaskDataset``):
the hook draws each sample through ``MultiTaskLocalVisualizer`` with the tasks of its
source (boxes for ``voc_det``, segmentation for ``voc_seg``, depth for ``nyud_depth``)."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'voc_nyud', 'squad-retinanet_r18_demo_voc-nyud.py')
#: the columns of a picture of this model: det | seg | depth
COLUMNS = 3


def test_show_dir_draws_each_source_with_its_tasks(voc_nyud_demo, tmp_path):
    import cv2
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    # init_weights logs to mmengine's current logger; make it this test's own (an earlier
    # test's Runner may have left one whose log file is closed)
    MMLogger.get_instance(f'show_dir_mixture_{tmp_path.name}')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    ckpt = tmp_path / 'init.pth'
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), str(ckpt))
    root = str(voc_nyud_demo)
    options = [f'test_dataloader.dataset.sources.{name}.dataset.data_root={root}/{folder}/'
               for name, folder in (('voc_det', 'voc'), ('voc_seg', 'voc'),
                                    ('nyud_depth', 'nyud'))]
    options += [f'test_evaluator.0.ann_file={root}/voc/annotations/val.json',
                'model.test_cfg.score_thr=0.0']
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'), CONFIG, str(ckpt),
         '--work-dir', str(tmp_path / 'work'), '--show-dir', 'pictures',
         '--cfg-options', *options],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    pictures = sorted((tmp_path / 'work').glob('*/pictures/*/*.png'))
    by_source = {}
    for path in pictures:
        by_source.setdefault(path.parent.name, []).append(path)
    assert set(by_source) == {'voc_det', 'voc_seg', 'nyud_depth'}
    for source, paths in by_source.items():
        picture = cv2.imread(str(paths[0]))
        h = (picture.shape[0] - 4) // 2  # gt row above pred row
        w = (picture.shape[1] - 4 * (COLUMNS - 1)) // COLUMNS
        assert picture.shape == (2 * h + 4, COLUMNS * w + 4 * (COLUMNS - 1), 3)
        gt_row = picture[:h - 20]  # above the panel titles
        # the ground-truth row holds only this source's labelled task; the others are empty
        empty = [bool((gt_row[:, c * (w + 4):c * (w + 4) + w] == 96).all())
                 for c in range(COLUMNS)]
        labelled = {'voc_det': 0, 'voc_seg': 1, 'nyud_depth': 2}[source]
        assert empty == [c != labelled for c in range(COLUMNS)], source
        # every prediction panel is drawn
        pred_row = picture[h + 4:2 * h + 4 - 20]
        for c in range(COLUMNS):
            assert not (pred_row[:, c * (w + 4):c * (w + 4) + w] == 96).all()
