"""FiniteGuardHook through the real Runner: a non-finite loss stops training (or is skipped up
to a limit) before any checkpoint with non-finite weights is written, and the last finite
checkpoint is kept, on the plain path and the balancer paths."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from torch.utils.data import Dataset

from mtlunder.compat import safe_load
from mtlunder.engine import NonFiniteTrainingError
from mtlunder.engine.hooks import FiniteGuardHook
from tests.balancers.toy_model import ToyMultiTask, make_batch


class _ToyData(Dataset):

    def __init__(self):
        batch = make_batch(0, size=16, dtype=torch.float32)
        self.x, self.y = batch['inputs'], batch['data_samples']['y']

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], data_samples=dict(y=self.y[i]))


class FlakyToy(ToyMultiTask):
    """The toy whose task ``b`` loss is NaN in the listed training iterations (0-based)."""

    def __init__(self, balancer=None, nan_iters=()):
        super().__init__(balancer, dtype=torch.float32)
        if balancer is None:
            self.balancer = None
        self.nan_iters = set(nan_iters)
        self.calls = 0

    def loss_from_shared(self, shared, data_samples, batch_inputs=None):
        if self.calls in self.nan_iters:
            data_samples = dict(data_samples, nan=['b'])
        self.calls += 1
        return super().loss_from_shared(shared, data_samples, batch_inputs)


class LrFromEpoch(Hook):
    """Sets the learning rate to ``lr`` from epoch ``epoch`` (0-based) on."""

    def __init__(self, epoch, lr):
        self.epoch, self.lr = epoch, lr

    def before_train_epoch(self, runner):
        if runner.epoch >= self.epoch:
            for group in runner.optim_wrapper.param_groups:
                group['lr'] = self.lr


def _runner(work_dir, model, max_epochs=4, guard=None, custom_hooks=()):
    from mmengine.runner import Runner

    return Runner(
        model=model, work_dir=str(work_dir),
        train_dataloader=dict(dataset=_ToyData(), batch_size=4, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        custom_hooks=list(custom_hooks),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
            logger=dict(type='LoggerHook', interval=10),
            finite_guard=guard or dict(type='FiniteGuardHook')),
        default_scope='mtlunder', experiment_name=osp.basename(work_dir))


def _finite_checkpoints(work_dir):
    """Every checkpoint of ``work_dir`` -> whether all its floating tensors are finite."""
    out = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*.pth'))):
        state = safe_load(path)['state_dict']
        out[osp.basename(path)] = all(bool(torch.isfinite(v).all()) for v in state.values()
                                      if v.is_floating_point())
    return out


@pytest.mark.parametrize('balancer', [None, dict(type='DWA'), dict(type='MGDA')])
def test_exploding_lr_stops_before_a_checkpoint_and_keeps_the_last_finite(tmp_path, balancer):
    """lr=1e6 from epoch 3: training stops within one logging interval (10 iterations),
    epoch_1 and epoch_2 survive max_keep_ckpts=2, nothing non-finite is written."""
    model = ToyMultiTask(balancer, dtype=torch.float32)
    if balancer is None:
        model.balancer = None
    runner = _runner(tmp_path, model, max_epochs=6, custom_hooks=[LrFromEpoch(2, 1e6)])
    with pytest.raises(NonFiniteTrainingError, match='epoch_2.pth, is kept') as err:
        runner.train()
    assert 8 < runner.iter + 1 <= 8 + 10, runner.iter  # 4 iterations per epoch
    assert 'stopped training at iteration' in str(err.value)
    assert _finite_checkpoints(tmp_path) == {'epoch_1.pth': True, 'epoch_2.pth': True}
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read().strip().endswith('epoch_2.pth')


@pytest.mark.parametrize('balancer', [None, dict(type='DWA'), dict(type='MGDA')])
def test_stop_names_the_task_and_key(tmp_path, balancer):
    runner = _runner(tmp_path, FlakyToy(balancer, nan_iters=[5]))
    with pytest.raises(NonFiniteTrainingError, match=r'task b.*b\.loss_mse=nan'):
        runner.train()
    assert runner.iter == 5  # the 6th iteration (epoch 2): only epoch_1 was saved
    assert _finite_checkpoints(tmp_path) == {'epoch_1.pth': True}


@pytest.mark.parametrize('balancer', [None, dict(type='DWA'), dict(type='MGDA')])
def test_skip_mode_trains_through_isolated_steps(tmp_path, balancer):
    guard = dict(type='FiniteGuardHook', action='skip', max_consecutive_skips=3)
    runner = _runner(tmp_path, FlakyToy(balancer, nan_iters=[1, 5, 6]), guard=guard)
    runner.train()
    assert runner.iter == 16
    assert runner.message_hub.get_info('skipped_steps') == 3
    assert runner.message_hub.get_scalar('train/skipped_steps').current() == 3
    assert set(_finite_checkpoints(tmp_path).items()) == {('epoch_3.pth', True),
                                                          ('epoch_4.pth', True)}


def test_skip_mode_stops_after_max_consecutive_skips(tmp_path):
    guard = dict(type='FiniteGuardHook', action='skip', max_consecutive_skips=3)
    runner = _runner(tmp_path, FlakyToy(None, nan_iters=[4, 6, 7, 8]), guard=guard)
    with pytest.raises(NonFiniteTrainingError, match='3 consecutive steps skipped'):
        runner.train()
    assert runner.iter == 8
    assert _finite_checkpoints(tmp_path) == {'epoch_1.pth': True, 'epoch_2.pth': True}


def test_a_model_outside_mtlunder_steps_is_stopped(tmp_path):
    """mmengine's own train_step applies a NaN step; the hook still stops before the save."""
    from mmengine.runner import Runner

    from tests.fixtures.toy_task import ToyRegressionDataset, ToyRegressor

    runner = Runner(
        model=ToyRegressor(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=ToyRegressionDataset(length=16), batch_size=4,
                              num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=20),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e6)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           finite_guard=dict(type='FiniteGuardHook')),
        default_scope='mtlunder', experiment_name=tmp_path.name)
    with pytest.raises(NonFiniteTrainingError, match='stopped training'):
        runner.train()
    assert all(_finite_checkpoints(tmp_path).values())


def test_checkpoint_with_non_finite_weights_is_refused():
    hook = FiniteGuardHook()
    hook.before_save_checkpoint(None, dict(state_dict=dict(w=torch.ones(2))))
    with pytest.raises(NonFiniteTrainingError, match='refused to save.*w'):
        hook.before_save_checkpoint(
            None, dict(state_dict=dict(w=torch.tensor([1.0, float('nan')]))))
    with pytest.raises(ValueError, match='action'):
        FiniteGuardHook(action='ignore')
    with pytest.raises(ValueError, match='max_consecutive_skips'):
        FiniteGuardHook(action='skip', max_consecutive_skips=0)


def test_demo_config_with_exploding_lr_stops_and_keeps_the_finite_checkpoint(tmp_path):
    """The demo model and pipeline on a tiny synthetic benchmark (3 iterations per epoch):
    lr=1e6 from epoch 2 stops within one logging interval (10 iterations); epoch_1 is kept and
    is the only checkpoint, and it is finite."""
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.synthesis.generator import generate_benchmark
    from mtlunder.utils import register_all_modules
    from tests.integration.test_demo_config import small_cfg

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    data_root = str(tmp_path / 'underwater')
    generate_benchmark(data_root, 8, size=(128, 128), seed=3, val_fraction=0.25)
    cfg = small_cfg(data_root, str(tmp_path / 'work'))
    cfg.train_cfg.max_epochs = 5
    cfg.train_cfg.val_interval = 100  # training only
    assert cfg.default_hooks.finite_guard.type == 'FiniteGuardHook'  # on by default
    runner = Runner.from_cfg(cfg)
    runner.register_hook(LrFromEpoch(1, 1e6))
    with pytest.raises(NonFiniteTrainingError, match='epoch_1.pth, is kept'):
        runner.train()
    assert 3 < runner.iter + 1 <= 3 + cfg.default_hooks.logger.interval, runner.iter
    assert _finite_checkpoints(tmp_path / 'work') == {'epoch_1.pth': True}


def test_every_shipped_config_has_the_guard_on():
    from mmengine.config import Config

    from mtlunder.registry import HOOKS

    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    configs = [p for p in glob.glob(osp.join(root, 'configs', '**', '*.py'), recursive=True)
               if '_base_' not in p]
    assert configs
    for path in configs:
        hook = Config.fromfile(path).default_hooks.get('finite_guard')
        assert hook is not None and HOOKS.get(hook['type']) is FiniteGuardHook, path
        assert hook['action'] == 'stop', path
