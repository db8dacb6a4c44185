"""Single-task baselines (MultiTaskDetector with one head) and compare_architectures."""
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mtlunder.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
SINGLE = {'det': ROOT / 'configs/baselines/single-det-retinanet_r18_demo_underwater.py',
          'enh': ROOT / 'configs/baselines/single-enh_r18_demo_underwater.py'}
EVALUATORS = {'det': 'TaskCocoMetric', 'enh': 'EnhancementMetric'}


@pytest.mark.parametrize('task', ['det', 'enh'])
def test_single_task_config_builds_and_runs_one_loss_call(task, load_tool):
    cfg = Config.fromfile(str(SINGLE[task]))
    assert cfg.model.neck.tasks == [task] and list(cfg.model.heads) == [task]
    assert cfg.val_evaluator.type == EVALUATORS[task]
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    assert model.tasks == (task, )
    # labels for both tasks: the single-task model must use only its own
    batch = load_tool('benchmark_speed').random_batch(('det', 'enh'), 2, (64, 64), 4)
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    assert losses and {k.partition('.')[0] for k in losses} == {task}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all()
               for p in model.backbone.parameters() if p.requires_grad)


def test_single_det_evaluates_the_same_val_annotations():
    base = Config.fromfile(str(ROOT / 'configs/squad/squad-retinanet_r18_demo_underwater.py'))
    coco = [m for m in base.val_evaluator.metrics.metrics if m.type == 'TaskCocoMetric']
    single = Config.fromfile(str(SINGLE['det']))
    assert len(coco) == 1 and single.val_evaluator.ann_file == coco[0].ann_file
    assert single.val_dataloader.dataset.ann_file == base.val_dataloader.dataset.ann_file


@pytest.mark.parametrize('num_outs', [3, 5])
def test_t1_neck_matches_plain_fpn_shapes(num_outs):
    from mmdet.models.necks import FPN

    neck_cfg = Config.fromfile(str(SINGLE['det'])).model.neck
    neck = MODELS.build(dict(neck_cfg, num_outs=num_outs))
    fpn = FPN(in_channels=neck_cfg.in_channels, out_channels=neck_cfg.out_channels,
              num_outs=num_outs, add_extra_convs='on_output')
    feats = tuple(torch.rand(1, c, 32 // 2**i, 40 // 2**i)
                  for i, c in enumerate(neck_cfg.in_channels))
    with torch.no_grad():
        out = neck(feats)
        ref = fpn(feats)
    assert set(out) == {'det'}
    assert [t.shape for t in out['det']] == [t.shape for t in ref]


def test_short_budget_cfg_trains_n_iterations(load_tool):
    compare = load_tool('compare_architectures')
    cfg = Config.fromfile(str(SINGLE['enh']))
    short = compare.short_budget_cfg(cfg, iters=7, batch_size=3, num_workers=0,
                                     conflict_interval=2)
    assert short.train_cfg == dict(type='IterBasedTrainLoop', max_iters=7, val_interval=7)
    assert short.train_dataloader.batch_size == 3
    assert not short.train_dataloader.persistent_workers
    assert short.param_scheduler[0]['end'] == 1 and not short.param_scheduler[0]['by_epoch']
    assert short.default_hooks.checkpoint.interval == 7
    assert [h['type'] for h in short.custom_hooks] == ['GradConflictHook']
    assert short.custom_hooks[0]['interval'] == 2
    # the original config is untouched
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop' and 'custom_hooks' not in cfg
    plain = compare.short_budget_cfg(cfg, 5, 2, 1, None)
    assert not plain.get('custom_hooks') and plain.train_dataloader.persistent_workers


def test_run_summary_averages_the_logged_cosines(tmp_path, load_tool):
    compare = load_tool('compare_architectures')
    cosines = [0.25, -0.5, 0.125]
    lines = [dict(step=10 * i + 1, **{'conflict/cos_det_enh': c, 'loss': 1.0})
             for i, c in enumerate(cosines)]
    lines.append({'step': 30, 'coco/bbox_mAP': 0.1, 'coco/bbox_mAP_50': 0.3,
                  'enh/psnr': 20.5, 'enh/ssim': 0.8})
    path = tmp_path / 'scalars.json'
    path.write_text('\n'.join(json.dumps(x) for x in lines) + '\n')
    summary = compare.summarise_run(compare.read_scalars(str(path)))
    assert summary['cos'] == pytest.approx(sum(cosines) / len(cosines))
    assert summary['cos_n'] == 3
    assert (summary['mAP'], summary['mAP50'], summary['psnr'], summary['ssim']) == \
        (0.1, 0.3, 20.5, 0.8)
    assert 'input_psnr' not in summary


def test_report_states_budget_and_joint_vs_cascade_ratio(load_tool):
    compare = load_tool('compare_architectures')
    bench = load_tool('benchmark_speed')
    args = compare.parse_args(['a.py', 'b.py', '--iters', '9', '--bench-batch-size', '2',
                               '--ratio-sizes', '512x512'])
    # inference: the cascade takes 3x the joint's time, 1.5x in round 3; training 2.5x
    rows = [dict(tasks=('det', 'enh'), params=3e6, flops=1e9,
                 **bench.speed_row(2, [0.1, 0.1, 0.2, 0.1], [0.2, 0.2, 0.2, 0.3])),
            dict(tasks=('det', 'enh'), params=6e6, flops=2e9,
                 **bench.speed_row(2, [0.3, 0.3, 0.3, 0.3], [0.5, 0.5, 0.5, 0.75]))]
    extra = [dict(label='random 512x512 input', indices=[0, 1],
                  rows=[bench.speed_row(2, [1.0, 1.0, 1.0]), bench.speed_row(2, [1.4] * 3)])]
    results = [dict(psnr=19.0, ssim=0.7, cos=0.1), dict(error='tools/train.py exited with 1')]
    doc = compare.format_report(['joint', 'cascade'], rows, results,
                                ['MultiTaskDetector', 'CascadeEnhanceDetect'], args, 'CMD',
                                'MACHINE', 'DATE', extra)
    assert 'Short budget: 9 iterations' in doc and 'CMD' in doc and 'MACHINE' in doc
    # per-round speed ratios 3, 3, 1.5, 3: median 3, quartiles 2.625 and 3
    assert ('random 256x256 input, same run: **3.000x** (median of 4 per-round ratios, '
            'interquartile range 2.625-3.000; median speeds 20.00 vs 6.67 img/s): meets the '
            '1.5x target') in doc
    assert 'random 512x512 input, same run: **1.400x**' in doc and 'misses the 1.5x' in doc
    table = [line for line in doc.splitlines() if line.startswith('| cascade')]
    assert len(table) == 1 and '| 2.50 |' in table[0] and '| 0.33 |' in table[0]
    assert '`cascade`: tools/train.py exited with 1' in doc
    with pytest.raises(SystemExit):
        compare.parse_args(['a.py', '--ratio-sizes', '512'])


def test_finished_runs_are_read_back_only_for_the_identical_config(tmp_path, load_tool):
    compare = load_tool('compare_architectures')
    cfg = compare.short_budget_cfg(Config.fromfile(str(SINGLE['enh'])), 7, 3, 0, None)
    work_dir = tmp_path / 'single-enh'
    assert compare.finished_run(cfg, 'single-enh', str(work_dir)) is None
    scalars = work_dir / '20260101_000000' / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(json.dumps({'step': 7, 'enh/psnr': 21.5, 'enh/ssim': 0.81}) + '\n')
    cfg.dump(str(work_dir / 'single-enh_short.py'))
    res = compare.finished_run(cfg, 'single-enh', str(work_dir))
    assert res == dict(psnr=21.5, ssim=0.81, reused=True)
    longer = compare.short_budget_cfg(Config.fromfile(str(SINGLE['enh'])), 8, 3, 0, None)
    assert compare.finished_run(longer, 'single-enh', str(work_dir)) is None
    args = compare.parse_args(['a.py', '--reuse-runs'])
    rows = [dict(tasks=('enh', ), params=3e6, flops=1e9,
                 **load_tool('benchmark_speed').speed_row(3, [0.25], [0.2]))]
    doc = compare.format_report(['single-enh'], rows, [res], ['MultiTaskDetector'], args,
                                'CMD', 'MACHINE', 'DATE')
    assert '(`--reuse-runs`): `single-enh`' in doc and '| 21.50 | 0.8100 |' in doc


def test_trained_checkpoints_are_timed_on_the_first_val_batch(tmp_path, load_tool):
    from mtlunder.synthesis.generator import generate_benchmark
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compare = load_tool('compare_architectures')
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
    assert compare.measure_trained_ratio(cfgs, names, types, str(tmp_path), 2, 0, 1) == []
    for name in names:
        (tmp_path / name / 'last_checkpoint').write_text(str(tmp_path / name / 'iter_3.pth'))
    [entry] = compare.measure_trained_ratio(cfgs, names, types, str(tmp_path), 2, 0, 3)
    assert entry['label'].startswith('trained checkpoints on the first val batch (64x64; ')
    assert entry['indices'] == [0, 1]
    assert [len(row['infer_rounds']) for row in entry['rows']] == [3, 3]
    assert all(row['images_per_s'] > 0 for row in entry['rows'])
