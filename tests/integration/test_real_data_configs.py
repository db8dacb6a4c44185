"""The real-data configs: the main config's missing-data message, and one Runner epoch of
the real CPU demo config on the mixed benchmark of the shared samples."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAIN = osp.join(ROOT, 'configs', 'squad', 'underwater_det_enh.py')
DEMO_REAL = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_demo_underwater-real.py')
SYNTH_GPU = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r50_1x_underwater-synth.py')


def test_main_config_without_data_names_the_file_and_the_build_command(tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), MAIN, '--work-dir',
         str(tmp_path / 'work')], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode != 0
    assert ('annotation file data/underwater_real/annotations/train.json not found; build it '
            'with: python data_tools/build_underwater_benchmark.py data/underwater_real '
            '--det duo_train:coco:') in proc.stderr


def test_real_and_synthetic_configs_read_their_own_layouts():
    from mmengine.config import Config

    main, synth = Config.fromfile(MAIN), Config.fromfile(SYNTH_GPU)
    assert main.train_dataloader.dataset.data_root == 'data/underwater_real/'
    assert main.train_dataloader.batch_sampler.type == 'TaskBalancedBatchSampler'
    metrics = [m.type for m in main.val_evaluator.metrics.metrics]
    assert metrics == ['TaskCocoMetric', 'EnhancementMetric', 'UnderwaterQualityMetric']
    assert synth.train_dataloader.dataset.data_root == 'data/underwater_synth_640/'
    assert main.model.backbone.depth == synth.model.backbone.depth == 50


def _mixed_indices(root, split, per_source):
    """Indices (json order) of the first ``per_source`` images of each source."""
    images = json.loads((root / 'annotations' / f'{split}.json').read_text())['images']
    taken, out = {}, []
    for i, img in enumerate(images):
        if taken.get(img['source'], 0) < per_source:
            taken[img['source']] = taken.get(img['source'], 0) + 1
            out.append(i)
    return out


def test_real_demo_config_one_epoch_through_runner(real_mixed_benchmark, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    root = real_mixed_benchmark
    cfg = Config.fromfile(DEMO_REAL)
    cfg.work_dir = str(tmp_path)
    for split, loader in (('train', cfg.train_dataloader), ('val', cfg.val_dataloader)):
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = str(root) + '/'
        loader.dataset.indices = _mixed_indices(root, split, 4 if split == 'train' else 3)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.metrics.metrics[0].ann_file = str(root / 'annotations' / 'val.json')
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.model.test_cfg.score_thr = 0.0
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    for key in ('coco/bbox_mAP', 'enh/psnr', 'enh/input_psnr', 'enh/uiqm', 'enh/input_uiqm',
                'enh/uciqe', 'enh/input_uciqe', 'combined/score'):
        assert key in metrics, key
    # the enhancement-only val images are not scored for detection, and vice versa
    log = open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()
    assert "3 images labelled for 'det' scored, 6 samples not labelled for it skipped" in log


DEMO_REAL_SOURCES = osp.join(osp.dirname(DEMO_REAL),
                             'squad-retinanet_r18_demo_underwater-real-sources.py')


def test_real_demo_as_a_mixture_of_sources_one_epoch(real_mixed_benchmark, tmp_path):
    """The same benchmark read as two sources (det images, enh pairs) with their own
    pipelines: per-source tasks, balanced batches, one Runner epoch."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    root = str(real_mixed_benchmark) + '/'
    cfg = Config.fromfile(DEMO_REAL_SOURCES)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    for source in cfg.train_dataloader.dataset.sources.values():
        source.dataset.data_root = root   # 4 images of each benchmark source, both sources
        source.dataset.indices = _mixed_indices(real_mixed_benchmark, 'train', 4)
    cfg.val_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.val_dataloader.dataset.data_root = root
    cfg.val_dataloader.dataset.indices = _mixed_indices(real_mixed_benchmark, 'val', 3)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.metrics.metrics[0].ann_file = root + 'annotations/val.json'
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    runner = Runner.from_cfg(cfg)
    mixture = runner.train_dataloader.dataset
    tasks = {mixture.get_data_info(i)['source']: mixture.get_data_info(i)['tasks']
             for i in range(len(mixture))}
    assert tasks == dict(utts=('det', ), pairs=('enh', ))
    pair = next(i for i in range(len(mixture)) if mixture.source_of(i) == 'pairs')
    sample = mixture[pair]['data_samples']
    assert tuple(sample.gt_clean.data.shape[-2:]) == (256, 256)   # the pairs' own crop
    for batch in list(runner.train_dataloader)[:3]:
        assert {t for s in batch['data_samples'] for t in s.tasks} == {'det', 'enh'}
    runner.train()
    metrics = runner.val_loop.run()
    assert 'enh/psnr' in metrics and 'combined/score' in metrics
