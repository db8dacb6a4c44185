"""One Runner epoch of the PASCAL-Context CPU demo config (seg, parts, sal, normal) on a
PASCAL_MT fixture tree converted by the project's converter."""
import os.path as osp

import numpy as np
import pytest

from tests.data_converters.builders import random_pascal_mt

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'pascal_context', 'squadnet-tiny_4task_demo_pascal-context.py')

pytestmark = pytest.mark.usefixtures('single_thread')


def test_pascal_context_demo_one_epoch(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.data_converters import convert_pascal_context
    from mtlunder.utils import register_all_modules

    # 4 train images (2 with human parts: one batch of 4 holds 2 of each group) + 2 val
    random_pascal_mt(tmp_path / 'PASCAL_MT', num_train=4, num_val=2, size=(48, 64))
    convert_pascal_context(tmp_path / 'PASCAL_MT', tmp_path / 'pc', show_progress=False)
    cfg = Config.fromfile(DEMO)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = str(tmp_path / 'pc')
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.work_dir = str(tmp_path / 'work')
    register_all_modules()
    compat.install_safe_checkpoint_loader()
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    for task in ('seg', 'parts', 'sal', 'normal'):
        assert any(not (before[k] == after[k]).all() for k in before
                   if k.startswith(f'heads.{task}.') and after[k].is_floating_point()), task
    metrics = runner.val_loop.run()
    for key in ('seg/mIoU', 'parts/mIoU', 'sal/maxF', 'sal/mIoU'):
        assert 0 <= metrics[key] <= 1, key
    assert 0 <= metrics['normal/mean'] <= 180
    assert np.isfinite(metrics['seg/aAcc'])
