"""Seeded training of the tiny squad demo through mmengine's Runner, with the shipped data
settings (random flips, 2 persistent workers) plus a random water cast: two runs with the
config's seed are bit-identical, another seed differs, and a resumed run continues the
uninterrupted one bit for bit."""
import os.path as osp

import pytest
import torch

from .tiny_benchmark import blob_image, coco_ann, write_benchmark

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_squadnet-tiny_demo_underwater.py')


@pytest.fixture(scope='module')
def benchmark(tmp_path_factory):
    """Four 48x48 det + enh images, one box each, off-centre so that a flip moves it."""
    root = tmp_path_factory.mktemp('benchmark')
    images, annotations = [], []
    for i in range(4):
        box = (2 + 4 * i, 6, 20 + 4 * i, 30)
        images.append(dict(file_name=f'{i}.png', img=blob_image(48, 48, [box], seed=i),
                           ref=blob_image(48, 48, [box], colour=(90, 160, 60), seed=50 + i),
                           tasks=['det', 'enh']))
        annotations.append(coco_ann(i + 1, i + 1, box, category_id=1 + i % 4))
    write_benchmark(root, images, annotations)
    return root


def demo_cfg(data_root, work_dir, max_epochs, **cfg_options):
    """The demo config on ``data_root`` at 32 px, batch 2 (2 steps an epoch), no validation,
    a warm-up spanning both epochs, ``cfg_options`` merged as ``--cfg-options`` does."""
    from mmengine.config import Config

    cfg = Config.fromfile(DEMO)
    loader = cfg.train_dataloader
    assert loader.num_workers == 2 and loader.persistent_workers  # the shipped settings
    assert any(t.type == 'PairedRandomFlip' for t in loader.dataset.pipeline)
    loader.batch_size = 2
    loader.dataset.data_root = str(data_root)
    pipeline = []
    for transform in loader.dataset.pipeline:
        if transform.type == 'PairedResize':
            transform.scale = (32, 32)
        pipeline.append(transform)
        if transform.type == 'PairedRandomFlip':
            pipeline.append(dict(type='RandomWaterCast', prob=0.5))
    loader.dataset.pipeline = pipeline
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=100)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                                end=4)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.merge_from_dict(cfg_options)
    cfg.work_dir = str(work_dir)
    # one process runs several Runners: give each its own logger, message hub, visualizer
    cfg.experiment_name = cfg.visualizer.name = f'seeded-{osp.basename(work_dir)}-{max_epochs}'
    return cfg


def train(cfg) -> None:
    """What tools/train.py does with the config."""
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.engine import prepare_balancer_cfg

    compat.install_safe_checkpoint_loader()
    prepare_balancer_cfg(cfg, distributed=False)
    compat.resolve_model_wrapper(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    # end the persistent workers now: a DataLoader left to the garbage collector waits
    # 5 s per worker before it terminates them
    runner.train_loop.dataloader._iterator._shutdown_workers()


@pytest.fixture(scope='module')
def runs(benchmark, tmp_path_factory):
    """Work dirs of: ``straight``, 2 epochs with the config's seed; ``split``, 1 epoch with
    the config's seed, then resumed (as ``--resume`` does) for a second one; ``other``,
    1 epoch with ``--cfg-options randomness.seed=1``."""
    root = tmp_path_factory.mktemp('runs')
    train(demo_cfg(benchmark, root / 'straight', 2))
    train(demo_cfg(benchmark, root / 'split', 1))
    train(demo_cfg(benchmark, root / 'split', 2, resume=True))
    train(demo_cfg(benchmark, root / 'other', 1, **{'randomness.seed': 1}))
    return root


def checkpoint(runs, name, epoch):
    from mtlunder.compat import safe_load

    return safe_load(str(runs / name / f'epoch_{epoch}.pth'))


def assert_identical(a, b, where):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), f'{where} differs (max |diff| {(a - b).abs().max()})'
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f'{where}[{i}]')
    else:
        assert a == b, f'{where}: {a!r} != {b!r}'


def test_seeded_runs_are_identical_and_the_seed_matters(runs):
    # two independent runs with the config's seed, after their first epoch (the schedule
    # does not depend on max_epochs, so 'straight' after epoch 1 is a one-epoch run)
    first, again = checkpoint(runs, 'split', 1), checkpoint(runs, 'straight', 1)
    other = checkpoint(runs, 'other', 1)
    assert first['meta']['seed'] == 0 and other['meta']['seed'] == 1  # default_runtime's
    assert_identical(first['state_dict'], again['state_dict'], 'state_dict')
    assert_identical(first['optimizer'], again['optimizer'], 'optimizer')
    differ = [k for k, v in first['state_dict'].items()
              if not torch.equal(v, other['state_dict'][k])]
    assert len(differ) > len(first['state_dict']) // 2, differ


def test_resume_continues_the_straight_run_bit_for_bit(runs):
    straight, resumed = checkpoint(runs, 'straight', 2), checkpoint(runs, 'split', 2)
    assert resumed['meta']['epoch'] == straight['meta']['epoch'] == 2
    assert resumed['meta']['iter'] == straight['meta']['iter'] == 4
    for key in ('state_dict', 'optimizer', 'param_schedulers'):
        assert_identical(straight[key], resumed[key], key)
