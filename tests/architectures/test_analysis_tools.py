"""tools/analysis: complexity per component/task (get_flops) and the speed benchmark."""
import sys

import pytest
import torch
from torch import nn

from mtlunder.models.backbones import SquadNet
from mtlunder.models.necks import ETRNeck

RETINANET_SQUADNET = """
default_scope = 'mtlunder'
model = dict(
    type='RetinaNet',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.],
                           bgr_to_rgb=False, pad_size_divisor=32),
    backbone=dict(type='SquadNet', arch='{arch}', num_tasks=1, num_shared=1,
                  group_channels=(4, 8, 16)),
    neck=dict(type='FPN', in_channels=[8, 16, 32], out_channels=16, num_outs=4,
              add_extra_convs='on_output'),
    bbox_head=dict(
        type='RetinaHead', num_classes=4, in_channels=16, feat_channels=16, stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4,
                              scales_per_octave=1, ratios=[1.0], strides=[2, 4, 8, 16]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
                        target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                      loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                                 min_pos_iou=0, ignore_iof_thr=-1),
                   sampler=dict(type='PseudoSampler'), allowed_border=-1, pos_weight=-1,
                   debug=False),
    test_cfg=dict(nms_pre=50, min_bbox_size=0, score_thr=0.05,
                  nms=dict(type='nms', iou_threshold=0.5), max_per_img=10))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.001, momentum=0.9))
"""


class ToyMultiTask(nn.Module):
    """SquadNet -> ETRNeck -> one 1x1 conv head per task, ``mode='tensor'`` like a detector."""

    tasks = ('det', 'enh')

    def __init__(self):
        super().__init__()
        self.backbone = SquadNet(arch='tiny', num_tasks=2, num_shared=1,
                                 group_channels=(4, 8, 16))
        self.neck = ETRNeck([12, 24, 48], self.tasks, out_channels=8, num_outs=4,
                            add_extra_convs='on_output')
        self.heads = nn.ModuleDict(dict(det=nn.Conv2d(8, 5, 1), enh=nn.Conv2d(8, 3, 1)))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        feats = self.neck(self.backbone(inputs))
        return {t: [self.heads[t](f) for f in feats[t]] for t in self.tasks}


def _numel(module):
    return sum(p.numel() for p in module.parameters())


def test_complexity_per_component_and_task(load_tool):
    get_flops = load_tool('get_flops')
    model = ToyMultiTask()
    with torch.no_grad():
        result = get_flops.complexity(model, torch.rand(1, 3, 32, 32))
    comps = result['components']
    assert list(comps) == ['backbone', 'neck', 'heads.det', 'heads.enh']
    # levels: det 16, 8, 4, 2 px; enh 16, 8, 4 px; 1x1 conv FLOPs = HW * Cin * Cout
    assert comps['heads.det'] == (8 * 5 + 5, 8 * 5 * (256 + 64 + 16 + 4))
    assert comps['heads.enh'] == (8 * 3 + 3, 8 * 3 * (256 + 64 + 16))
    assert comps['backbone'][0] == _numel(model.backbone)
    assert result['total'][0] == _numel(model)
    assert result['total'][1] == sum(f for _, f in comps.values())
    det_exclusive = _numel(model.heads['det']) + _numel(model.neck.extra_convs['det']) + sum(
        _numel(b.task_branches['det']) for stack in model.neck.blocks for b in stack)
    assert result['tasks']['det']['exclusive'][0] == det_exclusive
    excl = [v['exclusive'] for v in result['tasks'].values()]
    assert result['shared'][0] + sum(e[0] for e in excl) == result['total'][0]
    assert result['shared'][1] + sum(e[1] for e in excl) == result['total'][1]
    assert result['tasks']['enh']['total'][1] == result['shared'][1] + excl[1][1]


def test_get_flops_cli_on_a_config(tmp_path, load_tool, monkeypatch, capsys):
    from mmengine.config import Config

    from mtlunder.registry import MODELS

    cfg_file = tmp_path / 'retina_squad.py'
    cfg_file.write_text(RETINANET_SQUADNET.format(arch='tiny'))
    monkeypatch.setattr(sys, 'argv', ['get_flops.py', str(cfg_file), '--shape', '64', '64'])
    load_tool('get_flops').main()
    out = capsys.readouterr().out
    total = _numel(MODELS.build(Config.fromfile(str(cfg_file)).model))
    rows = {line.split('|')[1].strip(): line.split('|')[2].strip()
            for line in out.splitlines() if line.startswith('| ')}
    assert {'backbone', 'neck', 'bbox_head', 'total'} <= set(rows)
    assert rows['total'] == f'{total / 1e6:.3f}'


def test_time_rounds_times_round_robin_after_warmup(load_tool, monkeypatch):
    bench = load_tool('benchmark_speed')
    clock, calls = {'t': 0.0}, []
    durations = {'a': iter([100.0, 5.0, 1.0, 3.0]), 'b': iter([50.0, 2.0, 4.0, 8.0])}

    def make(name):
        def call():
            calls.append(name)
            clock['t'] += next(durations[name])
        return call

    monkeypatch.setattr(bench.time, 'perf_counter', lambda: clock['t'])
    rounds = bench.time_rounds([make('a'), make('b')], warmup=1, repeats=3,
                               device=torch.device('cpu'))
    assert rounds == [[5.0, 1.0, 3.0], [2.0, 4.0, 8.0]]  # the first call of each: warm-up
    assert calls == ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']
    row = bench.speed_row(6, rounds[1], rounds[0])
    assert row['train_s'] == 3.0 and row['images_per_s'] == 6 / 4.0


def test_paired_ratio_pairs_the_rounds(load_tool):
    paired_ratio = load_tool('benchmark_speed').paired_ratio
    # slow rounds (2, 5) scale both series alike: every ratio is 2
    slow, fast = [2.0, 20.0, 2.5, 3.0, 30.0], [1.0, 10.0, 1.25, 1.5, 15.0]
    assert paired_ratio(slow, fast) == (2.0, 2.0, 2.0)
    assert paired_ratio([3.0, 1.0, 2.0, 4.0], [1.0] * 4) == (2.5, 1.75, 3.25)
    assert paired_ratio([3.0], [2.0]) == (1.5, 1.5, 1.5)
    with pytest.raises(ValueError, match='2 and 1 rounds'):
        paired_ratio([1.0, 2.0], [1.0])


def test_random_batch_labels_every_task(load_tool):
    batch = load_tool('benchmark_speed').random_batch(('det', 'enh', 'depth'), 2, (24, 32), 4)
    assert [tuple(i.shape) for i in batch['inputs']] == [(3, 24, 32)] * 2
    s = batch['data_samples'][0]
    assert s.tasks == ('det', 'enh', 'depth')
    boxes = s.gt_instances.bboxes
    assert (boxes[:, 2:] > boxes[:, :2]).all() and (boxes[:, 2] <= 32).all()
    assert (boxes[:, 3] <= 24).all() and s.gt_instances.labels.max() < 4
    assert s.gt_clean.data.shape == (3, 24, 32) and s.gt_depth.data.shape == (1, 24, 32)


def test_benchmark_cli_measures_all_configs(tmp_path, load_tool, monkeypatch, capsys):
    files = []
    for arch in ('tiny', 'small'):
        files.append(tmp_path / f'retina_squad_{arch}.py')
        files[-1].write_text(RETINANET_SQUADNET.format(arch=arch))
    monkeypatch.setattr(sys, 'argv', ['benchmark_speed.py', *map(str, files), '--shape', '64',
                                      '64', '--batch-size', '1', '--warmup', '0',
                                      '--repeats', '2', '--device', 'cpu', '--num-threads', '1'])
    load_tool('benchmark_speed').main()
    rows = [line.split('|')[1:-1] for line in capsys.readouterr().out.splitlines()
            if line.startswith('| ') and 'retina_squad' in line]
    assert len(rows) == 2
    assert all(r[2].strip() == '64x64' for r in rows)
    assert float(rows[0][5]) == 1.0 and float(rows[0][7]) == 1.0
    # small has twice the squad blocks of tiny: more parameters
    assert float(rows[1][3]) > float(rows[0][3])
    assert all(float(r[4]) > 0 and float(r[6]) > 0 for r in rows)

