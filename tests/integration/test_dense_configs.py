"""One Runner epoch of the dense CPU demo configs: NYUD-v2 (on the converted shared frames
and on a built fixture) and the 4-task synthetic underwater model."""
import os.path as osp

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NYUD_DEMO = osp.join(ROOT, 'configs', 'nyud', 'squadnet-tiny_seg-depth_demo_nyud.py')
FOUR_TASK = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_4task_demo_underwater.py')


def _runner(cfg, work_dir):
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    cfg.work_dir = str(work_dir)
    return Runner.from_cfg(cfg)


def _nyud_cfg(root, train_split, val_split):
    from mmengine.config import Config

    cfg = Config.fromfile(NYUD_DEMO)
    for loader, split in ((cfg.train_dataloader, train_split), (cfg.val_dataloader, val_split)):
        loader.dataset.update(data_root=str(root), split=split)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    return cfg


@pytest.fixture(scope='module')
def built_nyud(tmp_path_factory):
    """Four 60x80 frames in the dense format (40 classes, 255 = ignore, depth in metres with
    holes), written by the project's DenseWriter; one training frame has no depth file."""
    from mtlunder.data_converters import DenseWriter
    from mtlunder.data_converters.nyud import NYUD40_CLASSES

    rng = np.random.default_rng(1)
    root = tmp_path_factory.mktemp('nyud_built') / 'nyud'
    writer = DenseWriter(root, 'nyud_v2', NYUD40_CLASSES)
    for k, split in enumerate(('train', 'train', 'train', 'val')):
        seg = rng.integers(0, 40, (60, 80)).astype(np.uint8)
        seg[:5] = 255
        depth = rng.uniform(0.5, 9.0, (60, 80)).astype(np.float32)
        depth[:, :4] = 0
        labels = dict(seg=seg) if k == 1 else dict(seg=seg, depth=depth)
        writer.add(f'{k:04d}', rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), [split],
                   **labels)
    writer.finish()
    return root


def _check_nyud_metrics(metrics):
    assert 0 <= metrics['seg/mIoU'] <= 1 and np.isfinite(metrics['depth/rmse'])


def test_nyud_demo_on_the_converted_shared_frames(shared_data, tmp_path):
    from mtlunder.data_converters import convert_nyud_png

    root = tmp_path / 'nyud'
    convert_nyud_png(shared_data / 'nyud_samples', root, show_progress=False)
    runner = _runner(_nyud_cfg(root, 'val', 'val'), tmp_path / 'work')
    runner.train()
    _check_nyud_metrics(runner.val_loop.run())


def test_nyud_demo_on_a_built_fixture(built_nyud, tmp_path):
    cfg = _nyud_cfg(built_nyud, 'train', 'val')
    # one batch of the 3 training frames: 2 with depth (ASPP's image-pool BatchNorm needs
    # at least 2 samples of a task), 1 without
    cfg.train_dataloader.batch_size = 3
    runner = _runner(cfg, tmp_path / 'work')
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    assert any(not (before[k] == after[k]).all() for k in before if 'heads.depth' in k)
    _check_nyud_metrics(runner.val_loop.run())


def test_four_task_synthetic_demo_one_epoch(tmp_path):
    from mmengine.config import Config

    from mtlunder.synthesis.generator import generate_benchmark

    data = tmp_path / 'synth'
    generate_benchmark(str(data), 8, size=(96, 96), seed=4, val_fraction=0.25)
    cfg = Config.fromfile(FOUR_TASK)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = str(data) + '/'
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.metrics.metrics[0].ann_file = str(data / 'annotations' / 'val.json')
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.model.test_cfg.score_thr = 0.0
    runner = _runner(cfg, tmp_path / 'work')
    runner.train()
    metrics = runner.val_loop.run()
    for key in ('coco/bbox_mAP_50', 'enh/psnr', 'seg/mIoU', 'depth/rmse', 'combined/score'):
        assert key in metrics, key
