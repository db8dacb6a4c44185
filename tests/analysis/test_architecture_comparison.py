"""Architecture comparison: short-budget configs, run summaries, the report, trained-model
timing and the command line of tools/analysis/compare_architectures.py."""
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config

from mtlunder.analysis.architecture_comparison import (finished_run, format_report,
                                                       measure_trained_ratio, parse_size,
                                                       read_scalars, short_budget_cfg,
                                                       summarise_run)
from mtlunder.analysis.model_timing import speed_row
from mtlunder.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
SINGLE_ENH = ROOT / 'configs/baselines/single-enh_r18_demo_underwater.py'


def report_options(**changes):
    """The options :func:`format_report` reads, at the tool's defaults."""
    return SimpleNamespace(**{**dict(iters=60, batch_size=8, shape=[256, 256],
                                     bench_batch_size=4, bench_warmup=1, bench_repeats=5,
                                     num_threads=1, conflict_interval=10), **changes})


def test_short_budget_cfg_trains_n_iterations():
    cfg = Config.fromfile(str(SINGLE_ENH))
    short = short_budget_cfg(cfg, iters=7, batch_size=3, num_workers=0, conflict_interval=2)
    assert short.train_cfg == dict(type='IterBasedTrainLoop', max_iters=7, val_interval=7)
    assert short.train_dataloader.batch_size == 3
    assert not short.train_dataloader.persistent_workers
    assert short.param_scheduler[0]['end'] == 1 and not short.param_scheduler[0]['by_epoch']
    assert short.default_hooks.checkpoint.interval == 7
    assert [h['type'] for h in short.custom_hooks] == ['GradConflictHook']
    assert short.custom_hooks[0]['interval'] == 2
    # the original config is untouched
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop' and 'custom_hooks' not in cfg
    plain = short_budget_cfg(cfg, 5, 2, 1, None)
    assert not plain.get('custom_hooks') and plain.train_dataloader.persistent_workers


def test_run_summary_averages_the_logged_cosines(tmp_path):
    cosines = [0.25, -0.5, 0.125]
    lines = [dict(step=10 * i + 1, **{'conflict/cos_det_enh': c, 'loss': 1.0})
             for i, c in enumerate(cosines)]
    lines.append({'step': 30, 'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_50': 0.3,
                  'enh/psnr': 20.5, 'enh/ssim': 0.8})
    path = tmp_path / 'scalars.json'
    path.write_text('\n'.join(json.dumps(x) for x in lines) + '\n')
    summary = summarise_run(read_scalars(str(path)))
    assert summary['cos'] == pytest.approx(sum(cosines) / len(cosines))
    assert summary['cos_n'] == 3
    assert (summary['mAP'], summary['mAP50'], summary['psnr'], summary['ssim']) == \
        (0.1, 0.3, 20.5, 0.8)
    assert 'input_psnr' not in summary


def test_report_states_budget_and_joint_vs_cascade_ratio():
    # inference: the cascade takes 3x the joint's time, 1.5x in round 3; training 2.5x
    rows = [dict(tasks=('det', 'enh'), params=3e6, flops=1e9,
                 **speed_row(2, [0.1, 0.1, 0.2, 0.1], [0.2, 0.2, 0.2, 0.3])),
            dict(tasks=('det', 'enh'), params=6e6, flops=2e9,
                 **speed_row(2, [0.3, 0.3, 0.3, 0.3], [0.5, 0.5, 0.5, 0.75]))]
    extra = [dict(label='random 512x512 input', indices=[0, 1],
                  rows=[speed_row(2, [1.0, 1.0, 1.0]), speed_row(2, [1.4] * 3)])]
    results = [dict(psnr=19.0, ssim=0.7, cos=0.1), dict(error='tools/train.py exited with 1')]
    doc = format_report(['joint', 'cascade'], rows, results,
                        ['MultiTaskDetector', 'CascadeEnhanceDetect'],
                        report_options(iters=9, bench_batch_size=2), 'CMD', 'MACHINE', 'DATE',
                        extra)
    assert 'Short budget: 9 iterations' in doc and 'CMD' in doc and 'MACHINE' in doc
    # per-round speed ratios 3, 3, 1.5, 3: median 3, quartiles 2.625 and 3
    assert ('random 256x256 input, same run: **3.000x** (median of 4 per-round ratios, '
            'interquartile range 2.625-3.000; median speeds 20.00 vs 6.67 img/s): meets the '
            '1.5x target') in doc
    assert 'random 512x512 input, same run: **1.400x**' in doc and 'misses the 1.5x' in doc
    table = [line for line in doc.splitlines() if line.startswith('| cascade')]
    assert len(table) == 1 and '| 2.50 |' in table[0] and '| 0.33 |' in table[0]
    assert '`cascade`: tools/train.py exited with 1' in doc


def test_finished_runs_are_read_back_only_for_the_identical_config(tmp_path):
    cfg = short_budget_cfg(Config.fromfile(str(SINGLE_ENH)), 7, 3, 0, None)
    work_dir = tmp_path / 'single-enh'
    assert finished_run(cfg, 'single-enh', str(work_dir)) is None
    scalars = work_dir / '20260101_000000' / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(json.dumps({'step': 7, 'enh/psnr': 21.5, 'enh/ssim': 0.81}) + '\n')
    cfg.dump(str(work_dir / 'single-enh_short.py'))
    res = finished_run(cfg, 'single-enh', str(work_dir))
    assert res == dict(psnr=21.5, ssim=0.81, reused=True)
    longer = short_budget_cfg(Config.fromfile(str(SINGLE_ENH)), 8, 3, 0, None)
    assert finished_run(longer, 'single-enh', str(work_dir)) is None
    rows = [dict(tasks=('enh', ), params=3e6, flops=1e9, **speed_row(3, [0.25], [0.2]))]
    doc = format_report(['single-enh'], rows, [res], ['MultiTaskDetector'], report_options(),
                        'CMD', 'MACHINE', 'DATE')
    assert '(`--reuse-runs`): `single-enh`' in doc and '| 21.50 | 0.8100 |' in doc


def test_trained_checkpoints_are_timed_on_the_first_val_batch(tmp_path, single_thread):
    from mtlunder.synthesis.generator import generate_benchmark
    from mtlunder.utils import register_all_modules

    register_all_modules()
    root = tmp_path / 'synth'
    generate_benchmark(str(root), 4, size=(64, 64), seed=1, val_fraction=0.5)
    paths = [ROOT / 'configs' / 'squad' / 'squad-retinanet_r18_demo_underwater.py',
             ROOT / 'configs' / 'baselines' / 'cascade-enh-det_r18_demo_underwater.py']
    cfgs, names = [], ['joint', 'cascade']
    for path, name in zip(paths, names):
        cfg = Config.fromfile(str(path))
        cfg.val_dataloader.dataset.data_root = str(root) + '/'
        for step in cfg.val_dataloader.dataset.pipeline:
            if step.type == 'PairedResize':
                step.scale = (64, 64)
        cfgs.append(cfg)
        model = MODELS.build(cfg.model)
        (tmp_path / name).mkdir()
        torch.save(dict(meta=dict(dataset_meta=dict(classes=('a', 'b', 'c', 'd'))),
                        state_dict=model.state_dict()), str(tmp_path / name / 'iter_3.pth'))
    types = ['MultiTaskDetector', 'CascadeEnhanceDetect']
    assert measure_trained_ratio(cfgs, names, types, str(tmp_path), 2, 0, 1) == []
    for name in names:
        (tmp_path / name / 'last_checkpoint').write_text(str(tmp_path / name / 'iter_3.pth'))
    [entry] = measure_trained_ratio(cfgs, names, types, str(tmp_path), 2, 0, 3)
    assert entry['label'].startswith('trained checkpoints on the first val batch (64x64; ')
    assert entry['indices'] == [0, 1]
    assert [len(row['infer_rounds']) for row in entry['rows']] == [3, 3]
    assert all(row['images_per_s'] > 0 for row in entry['rows'])


def test_parse_size_reads_height_by_width():
    assert parse_size('512x384') == [512, 384]
    with pytest.raises(ValueError, match='is not HxW'):
        parse_size('512')
    with pytest.raises(ValueError, match='smaller than 32x32'):
        parse_size('16X64')


def test_cli_rejects_a_ratio_size_that_is_not_hxw():
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools/analysis/compare_architectures.py'), 'a.py',
         '--ratio-sizes', '512'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--ratio-sizes: input size '512' is not HxW" in proc.stderr
