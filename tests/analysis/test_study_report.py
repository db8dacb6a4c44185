"""The study page against a hand computation on a fake results file."""
import json
import math
import re
import statistics

import pytest

from mtlunder.analysis import summarise, write_report

RUNS = ['mt', 'shared', 'sdet', 'sdepth']
#: run -> seed -> metrics; `shared` lacks seed 2, `mt` did not report mAP at seed 1
VALUES = {
    'mt': {0: {'coco/bbox_mAP': 0.41, 'depth/rmse': 0.92, 'enh/psnr': 21.30},
           1: {'depth/rmse': 0.88, 'enh/psnr': 20.10},
           2: {'coco/bbox_mAP': 0.47, 'depth/rmse': 0.95, 'enh/psnr': 22.05}},
    'shared': {0: {'coco/bbox_mAP': 0.35, 'depth/rmse': 1.01, 'enh/psnr': 19.90},
               1: {'coco/bbox_mAP': 0.38, 'depth/rmse': 0.97, 'enh/psnr': 20.60}},
    'sdet': {0: {'coco/bbox_mAP': 0.44}, 1: {'coco/bbox_mAP': 0.40},
             2: {'coco/bbox_mAP': 0.45}},
    'sdepth': {0: {'depth/rmse': 0.90}, 1: {'depth/rmse': 0.99}, 2: {'depth/rmse': 0.93}},
}
KEYS = ['coco/bbox_mAP', 'depth/rmse', 'enh/psnr']


def fake_results():
    records = [dict(run=run, seed=seed, metrics=metrics, config_hash='c' * 64,
                    checkpoint=dict(path=f'{run}/{seed}.pth', sha256='a' * 64),
                    git=dict(commit='b' * 40, dirty=False),
                    wall_time_s=dict(train=600.0, test=30.0), stale=False)
               for run, seeds in VALUES.items() for seed, metrics in seeds.items()]
    study = dict(file='studies/fake.py', title='Fake study', description='',
                 runs=[dict(name=r, config=f'configs/{r}.py', cfg_options={}, optional=False)
                       for r in RUNS],
                 seeds=[0, 1, 2], single_task_runs=dict(det='sdet', depth='sdepth'),
                 delta_keys=dict(det=['coco/bbox_mAP'], depth=['depth/rmse']),
                 metrics=KEYS, reference_run='mt', checkpoint='last')
    return dict(format_version=1, study=study, records=records)


def table_rows(page: str, heading: str) -> dict:
    """``{first cell: [other cells]}`` of the first table under ``heading``."""
    section = page.split(f'## {heading}', 1)[1]
    rows = {}
    for line in section.splitlines():
        if line.startswith('| `'):
            cells = [c.strip() for c in line.strip('|').split('|')]
            rows[cells[0].strip('`')] = cells[1:]
        elif rows and not line.startswith('|'):
            break
    return rows


def cell(values, decimals, signed=False, percent=False):
    """The expected cell, from statistics.mean / statistics.stdev."""
    scale, unit = (100, ' %') if percent else (1, '')
    sign = '+' if signed else ''
    mean = f'{scale * statistics.mean(values):{sign}.{decimals}f}{unit}'
    if len(values) == 1:
        return f'{mean} (n=1)'
    return f'{mean} ± {scale * statistics.stdev(values):.{decimals}f}{unit} (n={len(values)})'


def test_page_equals_hand_computation(tmp_path):
    path = tmp_path / 'fake.json'
    path.write_text(json.dumps(fake_results()))
    results = json.loads(path.read_text())
    page_file = tmp_path / 'page' / 'fake.md'
    page = write_report(results, str(page_file), str(path))
    assert page_file.read_text() == page
    png = (tmp_path / 'page' / 'fake.png').read_bytes()
    assert png.startswith(b'\x89PNG') and '](fake.png)' in page

    metrics = table_rows(page, 'Metrics')
    assert metrics['mt'] == [cell([0.41, 0.47], 4), cell([0.92, 0.88, 0.95], 4),
                             cell([21.30, 20.10, 22.05], 2)]
    assert metrics['shared'] == [cell([0.35, 0.38], 4), cell([1.01, 0.97], 4),
                                 cell([19.90, 20.60], 2)]
    assert metrics['sdet'] == [cell([0.44, 0.40, 0.45], 4), '—', '—']
    assert '| coco/bbox_mAP ↑ | depth/rmse ↓ | enh/psnr ↑ |' in page

    # delta_m per seed against the single-task means; mt's missing mAP at seed 1 counts 0
    det0 = statistics.mean([0.44, 0.40, 0.45])
    depth0 = statistics.mean([0.90, 0.99, 0.93])

    def deltas(maps, rmses):
        det = [(m - det0) / det0 for m in maps]
        depth = [-(r - depth0) / depth0 for r in rmses]
        return det, depth, [(a + b) / 2 for a, b in zip(det, depth)]

    delta = table_rows(page, 'Multi-task delta')
    det, depth, dm = deltas([0.41, 0.0, 0.47], [0.92, 0.88, 0.95])
    assert delta['mt'][:3] == [cell(det, 2, True, True), cell(depth, 2, True, True),
                               cell(dm, 2, True, True)]
    assert delta['mt'][3] == ', '.join(f'{s}: {100 * v:+.2f} %' for s, v in enumerate(dm))
    det, depth, dm = deltas([0.35, 0.38], [1.01, 0.97])
    assert delta['shared'][:3] == [cell(det, 2, True, True), cell(depth, 2, True, True),
                                   cell(dm, 2, True, True)]
    assert set(delta) == {'mt', 'shared'}  # the single-task references get no delta
    assert "Not reported by a run's test" in page and '`mt` seed 1: coco/bbox_mAP' in page

    # paired differences against mt over the seeds both finished
    paired = table_rows(page, 'Paired differences')
    # mt reported no mAP at seed 1: that seed has no mAP difference
    assert paired['shared'] == [cell([0.35 - 0.41], 4, True),
                                cell([1.01 - 0.92, 0.97 - 0.88], 4, True),
                                cell([19.90 - 21.30, 20.60 - 20.10], 2, True)]
    assert paired['sdet'] == [cell([0.44 - 0.41, 0.45 - 0.47], 4, True), '—', '—']
    assert 'mt' not in paired


def test_summary_statistics_and_missing_reference(tmp_path):
    results = fake_results()
    summary = summarise(results)
    entry = summary['metrics']['mt']['depth/rmse']
    assert entry['n'] == 3 and entry['seeds'] == [0, 1, 2]
    assert entry['mean'] == pytest.approx(statistics.mean([0.92, 0.88, 0.95]))
    assert entry['std'] == pytest.approx(statistics.stdev([0.92, 0.88, 0.95]))
    one = summarise(dict(results, records=[r for r in results['records']
                                           if r['seed'] == 0 or r['run'] != 'mt']))
    assert one['metrics']['mt']['enh/psnr']['n'] == 1
    assert math.isnan(one['metrics']['mt']['enh/psnr']['std'])
    # a test that reported nothing (a detector without boxes) is a gap, even at every seed
    empty = dict(results, records=[dict(r, metrics={}) if r['run'] == 'sdet' else r
                                   for r in results['records']])
    gaps = summarise(empty)['missing']
    assert gaps == {'mt': {1: ['coco/bbox_mAP']},
                    'sdet': {0: ['coco/bbox_mAP'], 1: ['coco/bbox_mAP'], 2: ['coco/bbox_mAP']}}
    # without a finished single-task depth run there is no delta, and the page says why
    partial = dict(results, records=[r for r in results['records'] if r['run'] != 'sdepth'])
    summary = summarise(partial)
    assert summary['delta']['baselines'] is None
    assert 'sdepth' in summary['delta']['reason']
    page = write_report(partial, str(tmp_path / 'partial.md'))
    assert re.search(r'Not computed: single-task run `sdepth` has no finished seed', page)
