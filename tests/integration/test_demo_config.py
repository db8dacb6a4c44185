"""The demo config trains, validates, checkpoints and tests through the real Runner."""
import os.path as osp

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_demo_underwater.py')


@pytest.fixture(scope='module')
def tiny_benchmark(tmp_path_factory):
    from mtlunder.synthesis.generator import generate_benchmark

    root = tmp_path_factory.mktemp('synth') / 'underwater'
    generate_benchmark(str(root), 8, size=(128, 128), seed=3, val_fraction=0.25)
    return str(root)


def small_cfg(data_root: str, work_dir: str, config: str = DEMO):
    """A demo-based config on a tiny benchmark: 128 px, batch 2, one epoch."""
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.batch_size = 2
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root + '/'
        for step in loader.dataset.pipeline:
            if step.type == 'PairedResize':
                step.scale = (128, 128)
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'].metrics.metrics[0].ann_file = \
            osp.join(data_root, 'annotations', 'val.json')
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.param_scheduler = []
    # an untrained detector may score no box above 0.05, and CocoMetric then reports
    # nothing; keep every box so the metric keys are always there
    cfg.model.test_cfg.score_thr = 0.0
    return cfg


def test_demo_config_one_epoch_through_runner(tiny_benchmark, tmp_path):
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    cfg = small_cfg(tiny_benchmark, str(tmp_path))
    cfg.default_hooks.visualization.draw = True  # what tools/test.py --show-dir sets
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    moved = [k for k in before if before[k].is_floating_point()
             and not torch.equal(before[k], after[k])]
    assert any(k.startswith('heads.det') for k in moved)
    assert any(k.startswith('heads.enh') for k in moved)
    assert any(k.startswith('neck') for k in moved)
    scalars = runner.message_hub.log_scalars
    for key in ('train/det.loss_cls', 'train/det.loss_bbox', 'train/enh.loss_l1',
                'train/enh.loss_ssim'):
        assert key in scalars and torch.isfinite(torch.tensor(scalars[key].current()))
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    assert osp.isfile(tmp_path / 'best_combined_score_epoch_1.pth')

    metrics = runner.test()
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'enh/psnr', 'enh/ssim',
                'enh/input_psnr', 'combined/score'):
        assert key in metrics
    assert 0.0 <= metrics['combined/score'] <= 1.0
    assert metrics['enh/psnr'] > 0 and 0 < metrics['enh/ssim'] <= 1
    import glob

    import cv2

    rows = sorted(glob.glob(osp.join(runner.log_dir, 'vis', '*.png')))
    assert len(rows) == 2  # one picture row per val image
    row = cv2.imread(rows[0])
    # MultiTaskLocalVisualizer: gt row (boxes, reference) above pred row (boxes, enhanced)
    assert row.shape == (2 * 128 + 4, 2 * 128 + 4, 3)


def test_gradient_balancer_config_trains_the_detector(tiny_benchmark, tmp_path):
    """MGDA through the Runner: per-task gradients of the real detector, weights logged,
    balancer state in the checkpoint."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    config = osp.join(ROOT, 'configs', 'balancers', 'mgda_squad-retinanet_r18_demo_underwater.py')
    cfg = small_cfg(tiny_benchmark, str(tmp_path), config)
    cfg.train_cfg.val_interval = 100  # training only
    runner = Runner.from_cfg(cfg)
    initial = {}

    class SnapshotHook(Hook):  # the weights after initialisation, before the first step
        def before_train(self, runner):
            initial.update({k: v.detach().clone() for k, v in runner.model.state_dict().items()})

    runner.register_hook(SnapshotHook())
    runner.train()
    scalars = runner.message_hub.log_scalars
    w_det = scalars['train/weight_det'].current()
    w_enh = scalars['train/weight_enh'].current()
    assert w_det >= 0 and w_enh >= 0 and abs(w_det + w_enh - 1) < 1e-5  # simplex weights
    state = compat.safe_load(str(tmp_path / 'epoch_1.pth'))['state_dict']
    assert any(k.startswith('balancer.') for k in state)
    # the detector trained: backbone, neck, det head and enh head all moved
    for part in ('backbone.', 'neck.', 'heads.det.', 'heads.enh.'):
        keys = [k for k in initial if k.startswith(part) and initial[k].is_floating_point()]
        assert keys, f'no parameters under {part}'
        assert any(not torch.equal(initial[k], state[k]) for k in keys), f'{part} unchanged'
