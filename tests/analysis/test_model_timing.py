"""mtlunder.analysis.model_timing: round-robin timing, paired ratios, random batches and the
speed table (timings are measured, not tested)."""
from argparse import Namespace
from pathlib import Path

import pytest
import torch
from torch import nn

from mtlunder.analysis import model_timing
from mtlunder.analysis.model_timing import (format_table, num_classes_of, paired_ratio,
                                            random_batch, run_benchmark, speed_row, time_rounds)

TINY = Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'retinanet_squadnet-tiny.py'
pytestmark = pytest.mark.usefixtures('single_thread')


def test_time_rounds_times_round_robin_after_warmup(monkeypatch):
    clock, calls = {'t': 0.0}, []
    durations = {'a': iter([100.0, 5.0, 1.0, 3.0]), 'b': iter([50.0, 2.0, 4.0, 8.0])}

    def make(name):
        def call():
            calls.append(name)
            clock['t'] += next(durations[name])
        return call

    monkeypatch.setattr(model_timing.time, 'perf_counter', lambda: clock['t'])
    rounds = time_rounds([make('a'), make('b')], warmup=1, repeats=3,
                         device=torch.device('cpu'))
    assert rounds == [[5.0, 1.0, 3.0], [2.0, 4.0, 8.0]]  # the first call of each: warm-up
    assert calls == ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']
    row = speed_row(6, rounds[1], rounds[0])
    assert row['train_s'] == 3.0 and row['images_per_s'] == 6 / 4.0
    assert set(speed_row(6, rounds[1])) == {'infer_rounds', 'images_per_s'}


def test_paired_ratio_pairs_the_rounds():
    # slow rounds (2, 5) scale both series alike: every ratio is 2
    slow, fast = [2.0, 20.0, 2.5, 3.0, 30.0], [1.0, 10.0, 1.25, 1.5, 15.0]
    assert paired_ratio(slow, fast) == (2.0, 2.0, 2.0)
    assert paired_ratio([3.0, 1.0, 2.0, 4.0], [1.0] * 4) == (2.5, 1.75, 3.25)
    assert paired_ratio([3.0], [2.0]) == (1.5, 1.5, 1.5)
    with pytest.raises(ValueError, match='2 and 1 rounds'):
        paired_ratio([1.0, 2.0], [1.0])


def test_random_batch_labels_every_task():
    batch = random_batch(('det', 'enh', 'depth'), 2, (24, 32), 4)
    assert [tuple(i.shape) for i in batch['inputs']] == [(3, 24, 32)] * 2
    assert batch['inputs'][0].dtype == torch.uint8
    s = batch['data_samples'][0]
    assert s.tasks == ('det', 'enh', 'depth')
    boxes = s.gt_instances.bboxes
    assert (boxes[:, 2:] > boxes[:, :2]).all() and (boxes[:, 2] <= 32).all()
    assert (boxes[:, 3] <= 24).all() and s.gt_instances.labels.max() < 4
    assert s.gt_clean.data.shape == (3, 24, 32) and s.gt_depth.data.shape == (1, 24, 32)
    seg = random_batch(('seg', ), 1, (16, 16), 4, map_classes={'seg': 7}, seed=1)
    labels = seg['data_samples'][0].gt_sem_seg.data
    assert labels.shape == (1, 16, 16) and labels.max() < 7 and labels.max() >= 2
    again = random_batch(('seg', ), 1, (16, 16), 4, map_classes={'seg': 7}, seed=1)
    assert torch.equal(again['data_samples'][0].gt_sem_seg.data, labels)


def test_num_classes_of_the_first_module_that_has_one():
    head = nn.Conv2d(1, 1, 1)
    head.num_classes = 9
    assert num_classes_of(nn.Sequential(nn.Linear(1, 1), head)) == 9
    assert num_classes_of(nn.Linear(1, 1)) == 4


def test_format_table_ratios_to_the_first_config():
    args = Namespace(input='random', batch_size=2, warmup=1, repeats=2)
    rows = [dict(config='a/joint.py', tasks=('det', 'enh'), params=2.5e6, input='64x64',
                 **speed_row(2, [0.1, 0.2], [1.0, 2.0])),
            dict(config='b/cascade.py', tasks=('det', ), params=5e6, input='64x64',
                 **speed_row(2, [0.2, 0.4], [3.0, 6.0]))]
    lines = format_table(rows, args, torch.device('cpu')).splitlines()
    assert lines[0].startswith('Input: random, batch 2, device cpu (')
    assert lines[0].endswith('warm-up 1, median of 2 rounds')
    cells = [[c.strip() for c in line.split('|')[1:-1]] for line in lines[3:]]
    assert cells[0] == ['joint', 'det,enh', '64x64', '2.500', '1500.0', '1.00', '13.33', '1.00']
    assert cells[1] == ['cascade', 'det', '64x64', '5.000', '4500.0', '3.00', '6.67', '0.50']


def test_run_benchmark_measures_all_configs(tmp_path):
    small = tmp_path / 'retinanet_squadnet-small.py'
    small.write_text(f"_base_ = '{TINY}'\nmodel = dict(backbone=dict(arch='small'))\n")
    args = Namespace(configs=[str(TINY), str(small)], shape=[64, 48], batch_size=1,
                     input='random', warmup=0, repeats=2, device='cpu', num_threads=None,
                     cfg_options=None)
    rows = run_benchmark(args)
    assert [r['config'] for r in rows] == args.configs
    assert all(r['tasks'] == ('det', ) and r['input'] == '64x48' for r in rows)
    assert all(len(r['train_rounds']) == len(r['infer_rounds']) == 2 for r in rows)
    assert all(r['train_s'] > 0 and r['images_per_s'] > 0 for r in rows)
    # small has twice the squad blocks of tiny: more parameters
    assert rows[1]['params'] > rows[0]['params']
    first = format_table(rows, args, torch.device('cpu')).splitlines()[3].split('|')
    assert float(first[6]) == 1.0 and float(first[8]) == 1.0


def test_tool_prints_one_row_per_config():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / 'tools' / 'analysis' / 'benchmark_speed.py'),
                           str(TINY), str(TINY), '--shape', '64', '64', '--batch-size', '1',
                           '--warmup', '0', '--repeats', '1', '--device', 'cpu',
                           '--num-threads', '1'], cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines()
            if line.startswith('| retinanet_squadnet-tiny')]
    assert len(rows) == 2 and all('64x64' in row for row in rows)
