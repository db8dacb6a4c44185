"""The balancer wired through an mmengine Runner: hook-logged weights, epoch state, checkpoint
and an exact resume of the balancer state."""
import torch
from torch.utils.data import Dataset

from mtlunder.compat import install_safe_checkpoint_loader, safe_load
from tests.balancers.toy_model import ToyMultiTask, make_batch


class _ToyData(Dataset):

    def __init__(self):
        batch = make_batch(0, size=16, dtype=torch.float32)
        self.x, self.y = batch['inputs'], batch['data_samples']['y']

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], data_samples=dict(y=self.y[i]))


def _runner(work_dir, max_epochs, **kwargs):
    from mmengine.runner import Runner

    return Runner(
        model=ToyMultiTask(dict(type='DWA'), dtype=torch.float32), work_dir=str(work_dir),
        train_dataloader=dict(dataset=_ToyData(), batch_size=4, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        custom_hooks=[dict(type='BalancerHook')],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=50)),
        default_scope='mtlunder', **kwargs)


def test_runner_trains_logs_weights_and_checkpoints_the_balancer(tmp_path):
    runner = _runner(tmp_path, 3, experiment_name='dwa')
    runner.train()
    balancer = runner.model.balancer
    assert int(balancer.epoch) == 3
    weights = runner.message_hub.get_scalar('train/weight_a').current()
    assert weights == balancer.last_weights['a'] and weights != 1.0
    state = safe_load(str(tmp_path / 'epoch_3.pth'))['state_dict']
    for key, value in balancer.state_dict().items():
        assert torch.equal(state[f'balancer.{key}'], value), key

    install_safe_checkpoint_loader()              # as tools/train.py does
    resumed = _runner(tmp_path, 3, experiment_name='dwa-resume',
                      load_from=str(tmp_path / 'epoch_2.pth'), resume=True)
    resumed.train()
    for key, value in balancer.state_dict().items():
        assert torch.allclose(resumed.model.balancer.state_dict()[key].double(),
                              value.double()), key
