"""The VOC + NYUD-v2 CPU demo configs on the demo data of the shared samples: one Runner
epoch of each, per-source evaluation, and a 2-process gloo run whose ranks end with
identical parameters."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs', 'voc_nyud')
DEMO = osp.join(CONFIGS, 'squad-retinanet_r18_demo_voc-nyud.py')
SOURCES = ('voc_det', 'voc_seg', 'nyud_depth')


def demo_options(root, sources=SOURCES) -> dict:
    """cfg-options that point a demo config at the demo data under ``root``."""
    options = {}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for source in sources:
            folder = 'nyud' if source == 'nyud_depth' else 'voc'
            options[f'{loader}.dataset.sources.{source}.dataset.data_root'] = \
                f'{root}/{folder}/'
    return options


def _demo_cfg(config, root, work_dir, sources=SOURCES):
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    cfg.merge_from_dict(demo_options(root, sources))
    metrics = cfg.val_evaluator
    while isinstance(metrics, dict):   # Evaluator(metrics=...) or a wrapper metric
        metrics = metrics['metrics']
    for metric in metrics:
        if 'ann_file' in metric:
            metric['ann_file'] = f'{root}/voc/annotations/val.json'
    cfg.test_evaluator = cfg.val_evaluator
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.work_dir = str(work_dir)
    return cfg


def _runner(cfg):
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    return Runner.from_cfg(cfg)


def test_demo_trains_one_epoch_and_is_scored_per_source(voc_nyud_demo, tmp_path,
                                                        single_thread):
    runner = _runner(_demo_cfg(DEMO, voc_nyud_demo, tmp_path / 'work'))
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    for part in ('backbone', 'neck', 'heads.det', 'heads.seg', 'heads.depth'):
        assert any(not torch.equal(before[k], after[k]) for k in after
                   if k.startswith(part) and after[k].is_floating_point()), part
    metrics = runner.val_loop.run()
    assert 0 <= metrics['seg/mIoU'] <= 1 and metrics['depth/rmse'] > 0
    assert 0 <= metrics['depth/delta1'] <= 1
    log = open(runner.logger.log_file).read()
    # each metric saw the images labelled for its task only: 8 VOC det, 8 VOC seg, 4 NYUD
    assert "TaskCocoMetric: 8 images labelled for 'det' scored, 12 samples not" in log
    assert 'SegMetric (seg): 8 images scored' in log
    assert 'DepthMetric (depth): 4 images scored' in log


def test_single_task_demos_are_recorded_and_feed_the_amtl_demo(voc_nyud_demo, tmp_path,
                                                               single_thread):
    """One epoch of each single-task demo, the record, then one epoch of the AMTL demo
    whose potentials and delta_m baselines are the recorded values."""
    import json

    from mtlunder.evaluation import record_single_task
    from mtlunder.evaluation.multitask_delta import delta_m, fill_missing, select_baselines

    work_dirs = []
    for task, source in (('det', 'voc_det'), ('seg', 'voc_seg'), ('depth', 'nyud_depth')):
        config = osp.join(CONFIGS, f'single-{task}_squad-retinanet_r18_demo_voc-nyud.py')
        cfg = _demo_cfg(config, voc_nyud_demo, tmp_path / task, sources=(source, ))
        cfg.visualizer.name = f'single-{task}'   # one visualizer (scalars.json) per run
        # 20 iterations of each: mmdet's CocoMetric reports nothing until a box scores
        # > 0.05, and AMTL needs potentials > 0 (delta1 of the first depth steps is 0)
        epochs = 20 if task == 'depth' else 10
        cfg.train_cfg.update(max_epochs=epochs, val_interval=epochs)
        cfg.default_hooks.checkpoint.interval = epochs
        cfg.randomness = dict(seed=0)
        runner = _runner(cfg)
        assert tuple(runner.model.tasks) == (task, )
        runner.train()
        work_dirs.append(str(tmp_path / task))
    record = tmp_path / 'single_task_results.json'
    results = record_single_task(work_dirs, str(record), checkpoint='last',
                                 show_progress=False)
    assert sorted(results['tasks']) == ['depth', 'det', 'seg']
    assert json.loads(record.read_text()) == results

    amtl = osp.join(CONFIGS, 'amtl_squad-retinanet_r18_demo_voc-nyud.py')
    cfg = _demo_cfg(amtl, voc_nyud_demo, tmp_path / 'amtl')
    cfg.model.balancer.potentials_file = str(record)
    cfg.val_evaluator.metrics.single_task_results = str(record)
    cfg.test_evaluator = cfg.val_evaluator
    cfg.visualizer.name = 'amtl'
    runner = _runner(cfg)
    balancer = runner.model.balancer
    for task, key in cfg.model.balancer.kpi_keys.items():
        recorded = results['tasks'][task]['metrics'][key]
        assert float(balancer.potentials[balancer.task_index(task)]) == pytest.approx(recorded)
    runner.train()
    metrics = runner.val_loop.run()
    baselines = select_baselines(results, cfg.val_evaluator.metrics.delta_keys)
    # after one epoch the detector may find no box: its mAP counts as 0 (CocoMetric is mute)
    expected = delta_m(fill_missing(metrics, baselines)[0], baselines)
    assert metrics['multitask/delta_m'] == pytest.approx(expected)
    assert -1.0 < metrics['multitask/delta_m'] < 10.0


DUMP_HOOK = '''
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mtlunder.registry import HOOKS


@HOOKS.register_module()
class DumpRankParameters(Hook):
    """Saves each rank's parameters after training (test helper). BatchNorm running
    statistics are left out: DDP broadcasts rank 0's buffers at the start of every forward,
    so after the last step each rank holds its own update of them."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save({k: v.detach().cpu() for k, v in model.named_parameters()},
                   f'{self.out_dir}/rank{get_rank()}.pth')
'''


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


SMALL = """_base_ = '{base}'
custom_imports = dict(imports=['dump_rank_parameters'], allow_failed_imports=False)
custom_hooks = [dict(type='BalancerHook'), dict(type='DumpRankParameters', out_dir='{out}')]
train_cfg = dict(max_epochs=2, val_interval=10)
param_scheduler = []
randomness = dict(seed=0)
default_hooks = dict(checkpoint=dict(interval=10))
"""


def test_two_gloo_ranks_train_the_demo_to_identical_parameters(voc_nyud_demo, tmp_path):
    (tmp_path / 'dump_rank_parameters.py').write_text(DUMP_HOOK)
    config = tmp_path / 'demo_2ranks.py'
    config.write_text(SMALL.format(base=DEMO, out=tmp_path))
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               PYTHONPATH=f'{tmp_path}{os.pathsep}{os.environ.get("PYTHONPATH", "")}',
               OMP_NUM_THREADS='1')
    # the val loop (and CocoMetric, which reads its ann_file) is built before training
    options = dict(demo_options(voc_nyud_demo),
                   **{'val_evaluator.0.ann_file': f'{voc_nyud_demo}/voc/annotations/val.json'})
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), str(config), '2', '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', *[f'{k}={v}' for k, v in options.items()]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True) for r in (0, 1)]
    assert ranks[0].keys() == ranks[1].keys()
    cfg = _demo_cfg(DEMO, voc_nyud_demo, tmp_path / 'init')
    cfg.randomness = dict(seed=0)
    init = _runner(cfg).model.state_dict()     # the same seed: the same initial weights
    changed = [k for k in ranks[0] if not torch.equal(ranks[0][k], init[k].cpu())]
    assert len(changed) > 10          # it trained
    for key in ranks[0]:
        torch.testing.assert_close(ranks[0][key], ranks[1][key], rtol=0, atol=0, msg=key)
