"""record_single_task on the work dirs of real short Runner trainings (and on laid-out ones for
the rarer layouts), its errors, and the two tools."""
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mtlunder.evaluation.single_task_results import (load_single_task_results, read_run,
                                                     record_single_task)
from tests.fixtures.work_dirs import write_run

pytestmark = pytest.mark.usefixtures('single_thread')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NYUD_DEMO = osp.join(ROOT, 'configs', 'nyud', 'squadnet-tiny_seg-depth_demo_nyud.py')
SAVE_BEST = dict(seg=('seg/mIoU', 'greater'), depth=('depth/rmse', 'less'))


def _train(data_root, work_dir, tasks):
    """Two epochs of the NYUD-v2 demo model with only ``tasks``' heads, on 80x60 frames."""
    from mmengine.config import Config, ConfigDict
    from mmengine.runner import Runner

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    cfg = Config.fromfile(NYUD_DEMO)
    cfg.model.backbone.tasks = cfg.model.neck.tasks = tasks
    cfg.model.heads = ConfigDict({t: cfg.model.heads[t] for t in tasks})
    size = (80, 60)
    resize = next(t for t in cfg.train_dataloader.dataset.pipeline
                  if t.type == 'PairedResize')  # the demo's fixed training size
    resize.scale = size
    cfg.val_dataloader.dataset.pipeline[1].scale = size
    for loader, split in ((cfg.train_dataloader, 'train'), (cfg.val_dataloader, 'val')):
        loader.dataset.update(data_root=str(data_root), split=split, tasks=tasks)
    cfg.train_dataloader.batch_size = 3
    cfg.test_dataloader = cfg.val_dataloader
    metrics = dict(seg=dict(type='SegMetric', num_classes=40), depth=dict(type='DepthMetric'))
    cfg.val_evaluator = cfg.test_evaluator = [metrics[t] for t in tasks]
    cfg.train_cfg.update(max_epochs=2, val_interval=1)
    cfg.param_scheduler = []
    key, rule = SAVE_BEST[tasks[0]]
    cfg.default_hooks.checkpoint.update(save_best=key, rule=rule)
    cfg.work_dir = str(work_dir)
    cfg.visualizer.name = f'visualizer_{osp.basename(work_dir)}'  # one per run in a process
    Runner.from_cfg(cfg).train()
    return work_dir


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Work dirs of real 2-epoch runs: single-task seg, single-task depth, seg + depth."""
    from mtlunder.data_converters import DenseWriter
    from mtlunder.data_converters.nyud import NYUD40_CLASSES

    rng = np.random.default_rng(3)
    base = tmp_path_factory.mktemp('single_task_runs')
    writer = DenseWriter(base / 'nyud', 'nyud_v2', NYUD40_CLASSES)
    for k, split in enumerate(('train', 'train', 'train', 'val', 'val')):
        writer.add(f'{k:04d}', rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), [split],
                   seg=rng.integers(0, 40, (60, 80)).astype(np.uint8),
                   depth=rng.uniform(0.5, 9.0, (60, 80)).astype(np.float32))
    writer.finish()
    return {name: _train(base / 'nyud', base / name, tasks) for name, tasks in (
        ('seg', ['seg']), ('depth', ['depth']), ('seg_depth', ['seg', 'depth']))}


def _val_records(work_dir):
    """Validation records of the work dir's only run, read independently of the package."""
    (run, ) = [d for d in os.listdir(work_dir) if osp.isdir(osp.join(work_dir, d))]
    with open(osp.join(work_dir, run, 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f]
    return {r['step']: {k: v for k, v in r.items() if k not in ('step', 'time', 'data_time')}
            for r in records if 'iter' not in r}


def _sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_record_real_runs(runs, tmp_path):
    from mtlunder.compat import safe_load

    out = tmp_path / 'out' / 'single_task_results.json'
    results = record_single_task([runs['seg'], runs['depth']], str(out), show_progress=False)
    assert os.listdir(out.parent) == [out.name]  # written atomically, nothing left over
    assert load_single_task_results(str(out)) == results
    assert results['format_version'] == 1 and set(results['tasks']) == {'seg', 'depth'}
    for task, pick in (('seg', max), ('depth', min)):
        entry, records = results['tasks'][task], _val_records(runs[task])
        key = SAVE_BEST[task][0]
        (best, ) = [f for f in os.listdir(runs[task]) if f.startswith('best_')]
        step = entry['validation']['step']
        assert entry['checkpoint']['path'] == str(runs[task] / best)
        assert best == f'best_{key.replace("/", "_")}_epoch_{step}.pth'
        assert safe_load(entry['checkpoint']['path'])['meta']['epoch'] == step
        assert entry['metrics'] == records[step] and key in entry['metrics']
        assert entry['metrics'][key] == pick(r[key] for r in records.values())
        assert entry['checkpoint']['sha256'] == _sha256(entry['checkpoint']['path'])
        assert entry['config']['sha256'] == _sha256(entry['config']['path'])
        assert entry['work_dir'] == str(runs[task])

    last = record_single_task([runs['depth']], str(tmp_path / 'last.json'), 'last',
                              show_progress=False)['tasks']['depth']
    assert last['checkpoint']['path'] == str(runs['depth'] / 'epoch_2.pth')
    assert last['validation'] == dict(unit='epoch', step=2,
                                      scalars_file=last['validation']['scalars_file'])
    assert last['metrics'] == _val_records(runs['depth'])[2]


def test_record_errors(runs, tmp_path):
    out = str(tmp_path / 'results.json')
    with pytest.raises(ValueError, match=re.escape(
            f"{runs['seg_depth']} is not a single-task run: its model has tasks ['depth', 'seg']")):
        record_single_task([runs['seg'], runs['seg_depth']], out, show_progress=False)
    again = shutil.copytree(runs['seg'], tmp_path / 'seg_again')
    with pytest.raises(ValueError, match=re.escape(
            f"task 'seg' is recorded by two runs: {runs['seg']} and {again}")):
        record_single_task([runs['seg'], again], out, show_progress=False)
    assert not osp.exists(out)
    # the record of the best checkpoint's epoch removed from the log
    entry = read_run(again)
    scalars, step = entry['validation']['scalars_file'], entry['validation']['step']
    with open(scalars) as f:
        kept = [line for line in f if f'"step": {step}}}' not in line or '"iter"' in line]
    with open(scalars, 'w') as f:
        f.writelines(kept)
    with pytest.raises(ValueError, match=f'no validation record at epoch {step}, the epoch'):
        read_run(again)
    with pytest.raises(FileNotFoundError, match='expected one best_'):
        read_run(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'record_single_task\.py WORK_DIR .*--out '
                                                r'.*missing\.json'):
        load_single_task_results(str(tmp_path / 'missing.json'))


def test_laid_out_runs_resumed_iteration_logged_and_conflicting(tmp_path):
    # an earlier run in the same work dir logged other values at the same epoch: the run
    # that saved the checkpoint (its meta.experiment_name) is the one read
    work = tmp_path / 'seg'
    write_run(work, ['seg'], {1: {'seg/mIoU': 0.9}}, timestamp='20260101_000000')
    write_run(work, ['seg'], {1: {'seg/mIoU': 0.2}, 2: {'seg/mIoU': 0.3}}, best=2,
              timestamp='20260102_000000')
    entry = read_run(work)
    assert entry['metrics'] == {'seg/mIoU': 0.3}
    assert read_run(work, 'last')['validation']['step'] == 2
    assert entry['validation']['scalars_file'].endswith('20260102_000000/vis_data/scalars.json')
    # validation logged by iteration (LoggerHook(log_metric_by_epoch=False))
    by_iter = write_run(tmp_path / 'depth', ['depth'], {1: {'depth/rmse': 2.0},
                                                         2: {'depth/rmse': 1.5}},
                        best=2, iters_per_epoch=5, log_metric_by_epoch=False)
    entry = read_run(by_iter)
    assert entry['validation']['unit'] == 'iter' and entry['validation']['step'] == 10
    assert entry['metrics'] == {'depth/rmse': 1.5}
    # two different records at the checkpoint's step in its own run
    twice = write_run(tmp_path / 'twice', ['depth'], {1: {'depth/rmse': 2.0}}, best=1)
    with open(twice / '20260101_000000' / 'vis_data' / 'scalars.json', 'a') as f:
        f.write(json.dumps({'depth/rmse': 2.5, 'step': 1}) + '\n')
    with pytest.raises(ValueError, match='2 different validation records at epoch 1'):
        read_run(twice)
    # a model without heads has no tasks to record
    plain = write_run(tmp_path / 'plain', [], {1: {'coco/bbox_mAP': 0.1}}, best=1)
    with pytest.raises(ValueError, match='has no `heads`'):
        record_single_task([plain], str(tmp_path / 'x.json'), show_progress=False)


def _run_tool(name, *args) -> str:
    """Runs ``tools/analysis/<name>.py`` as a user does; its stdout."""
    tool = osp.join(ROOT, 'tools', 'analysis', f'{name}.py')
    proc = subprocess.run([sys.executable, tool, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_tools_record_and_compare(runs, tmp_path):
    from mtlunder.evaluation.multitask_delta import delta_m, select_baselines

    out = str(tmp_path / 'single_task_results.json')
    printed = _run_tool('record_single_task', str(runs['seg']), str(runs['depth']), '--out', out)
    assert f'wrote {out}' in printed
    results = load_single_task_results(out)
    assert results['tasks'] == record_single_task(
        [runs['seg'], runs['depth']], str(tmp_path / 'same.json'), show_progress=False)['tasks']
    text = _run_tool('compare_single_task', str(runs['seg_depth']), '--single-task', out,
                     '--delta-keys', 'seg=seg/mIoU', 'depth=depth/rmse,depth/abs_rel')
    multi = _val_records(runs['seg_depth'])[2]  # the last checkpoint's (epoch 2) record
    single = results['tasks']['seg']['metrics']['seg/mIoU']
    change = (multi['seg/mIoU'] - single) / single
    assert (f'| seg | seg/mIoU | higher | {single:.4f} | {multi["seg/mIoU"]:.4f} | '
            f'{100 * change:+.2f} % | {100 * change:+.2f} % |') in text
    rmse = results['tasks']['depth']['metrics']['depth/rmse']
    change = (multi['depth/rmse'] - rmse) / rmse
    assert (f'| depth | depth/rmse | lower | {rmse:.4f} | {multi["depth/rmse"]:.4f} | '
            f'{100 * change:+.2f} % | {-100 * change:+.2f} % |') in text
    expected = delta_m(multi, select_baselines(results, dict(
        seg=['seg/mIoU'], depth=['depth/rmse', 'depth/abs_rel'])))
    assert f'delta_m: {100 * expected:+.2f} %' in text
    assert 'epoch_2.pth, epoch 2' in text
