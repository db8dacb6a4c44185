"""A model with a balancer trains through the multi-task step under every launcher:
``prepare_balancer_cfg`` selects ``MultiTaskDDP``, and a wrapper that bypasses the step is
refused instead of silently training the plain sum of the losses."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mtlunder.engine import prepare_balancer_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'squad', 'squad-retinanet_r18_demo_underwater.py')
MGDA = osp.join(ROOT, 'configs', 'balancers', 'mgda_squad-retinanet_r18_demo_underwater.py')


def _cfg(**model):
    return Config(dict(model=dict(type='MultiTaskDetector', **model)))


def test_distributed_run_with_a_balancer_gets_multitask_ddp():
    cfg = _cfg(balancer=dict(type='MGDA'))
    prepare_balancer_cfg(cfg, distributed=True)
    assert cfg.model_wrapper_cfg == dict(type='MultiTaskDDP', find_unused_parameters=True)
    assert [h['type'] for h in cfg.custom_hooks] == ['BalancerHook']


def test_named_multitask_wrapper_and_hook_are_kept():
    cfg = _cfg(balancer=dict(type='DWA'))
    cfg.model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=False)
    cfg.custom_hooks = [dict(type='BalancerHook')]
    prepare_balancer_cfg(cfg, distributed=True)
    assert cfg.model_wrapper_cfg == dict(type='MultiTaskDDP', find_unused_parameters=False)
    assert len(cfg.custom_hooks) == 1


def test_single_process_run_gets_the_hook_only():
    cfg = _cfg(balancer=dict(type='DWA'))
    prepare_balancer_cfg(cfg, distributed=False)
    assert 'model_wrapper_cfg' not in cfg
    assert [h['type'] for h in cfg.custom_hooks] == ['BalancerHook']


def test_no_balancer_changes_nothing():
    cfg = _cfg()
    prepare_balancer_cfg(cfg, distributed=True)
    assert 'model_wrapper_cfg' not in cfg and 'custom_hooks' not in cfg


def test_a_wrapper_that_ignores_the_balancer_is_refused():
    from mtlunder.utils import register_all_modules

    register_all_modules()
    cfg = _cfg(balancer=dict(type='MGDA'))
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel')
    with pytest.raises(ValueError, match="set model_wrapper_cfg = dict\\(type='MultiTaskDDP'"):
        prepare_balancer_cfg(cfg, distributed=True)


def test_model_refuses_a_plain_sum_of_its_losses_when_it_has_a_balancer():
    """What mmengine's MMDistributedDataParallel.train_step calls instead of train_step."""
    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    model_cfg = Config.fromfile(DEMO).model
    plain = MODELS.build(model_cfg)
    losses = dict(loss_a=torch.tensor(1.0), loss_b=torch.tensor(2.0))
    assert float(plain.parse_losses(losses)[0]) == 3.0
    model_cfg.balancer = dict(type='MGDA')
    with pytest.raises(RuntimeError, match='MultiTaskDDP'):
        MODELS.build(model_cfg).parse_losses(losses)


SMALL = """_base_ = '{base}'
data_root = '{data}/'
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(metrics=dict(metrics=[
    dict(type='TaskCocoMetric', ann_file=data_root + 'annotations/val.json', metric='bbox'),
    dict(type='EnhancementMetric')]))
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=10)
param_scheduler = []
randomness = dict(seed=0)
default_hooks = dict(checkpoint=dict(save_best=None), visualization=dict(draw=False))
"""


@pytest.fixture(scope='module')
def tiny_benchmark(tmp_path_factory):
    from mtlunder.synthesis.generator import generate_benchmark

    root = tmp_path_factory.mktemp('synth') / 'underwater'
    generate_benchmark(str(root), 10, size=(96, 96), seed=5, val_fraction=0.2)
    return str(root)


def _dist_train(config, work_dir, *extra):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()))
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2', '--work-dir',
         str(work_dir), *extra], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_dist_train_with_balancer_option_equals_the_balancer_config(tiny_benchmark, tmp_path):
    demo, mgda = tmp_path / 'demo_small.py', tmp_path / 'mgda_small.py'
    demo.write_text(SMALL.format(base=DEMO, data=tiny_benchmark))
    mgda.write_text(SMALL.format(base=MGDA, data=tiny_benchmark))
    log = _dist_train(str(demo), tmp_path / 'option', '--cfg-options',
                      'model.balancer.type=MGDA')
    assert "distributed training uses model_wrapper_cfg={'type': 'MultiTaskDDP'" in log
    dumped = Config.fromfile(str(tmp_path / 'option' / 'demo_small.py'))
    assert dumped.model_wrapper_cfg.type == 'mtlunder.engine.model_wrappers.MultiTaskDDP'
    _dist_train(str(mgda), tmp_path / 'config')
    from mtlunder.compat import safe_load

    a = safe_load(str(tmp_path / 'option' / 'epoch_1.pth'))['state_dict']
    b = safe_load(str(tmp_path / 'config' / 'epoch_1.pth'))['state_dict']
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
