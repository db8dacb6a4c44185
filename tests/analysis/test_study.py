"""The study runner: a two-config x two-seed study of the toy config through
tools/analysis/run_study.py (train + test subprocesses), resumed after a stop, and the
study-file checks."""
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from mtlunder.analysis import load_study, plan_study, run_study
from mtlunder.analysis.study import StudyError, format_duration

ROOT = Path(__file__).resolve().parents[2]
TOY = 'tests/data/configs/toy_regression_eval.py'
STUDY = """
runs = [dict(name='fast', config='{toy}', cfg_options={{'optim_wrapper.optimizer.lr': 0.05}}),
        dict(name='slow', config='{toy}', cfg_options={{'optim_wrapper.optimizer.lr': 0.01}})]
seeds = [0, 1]
single_task_runs = dict(depth='fast')
delta_keys = dict(depth=['toy/rmse'])
metrics = ['toy/rmse']
reference_run = 'fast'
work_dir = '{work}'
page = '{work}/page/toy.md'
"""


def run_tool(study, *args):
    """run_study.py as a user runs it, from the project root; (exit code, output)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))  # the toy config imports tests.fixtures
    proc = subprocess.run([sys.executable, 'tools/analysis/run_study.py', str(study), *args,
                           '--heartbeat', '600'], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def launched(output):
    """The (run, seed) pairs a tool invocation trained, in order."""
    return re.findall(r'\] (\w+) seed (\d+): training', output)


def test_one_run_is_trained_tested_and_recorded(tmp_path):
    """One (run, seed) through the tool: train and test subprocesses, the record, the page;
    a second invocation reads it back."""
    work = tmp_path / 'study'
    study = tmp_path / 'one.py'
    study.write_text(STUDY.format(toy=TOY, work=work) + "seeds = [1]\n")
    code, out = run_tool(study, '--only', 'slow')
    assert code == 0, out
    assert launched(out) == [('slow', '1')] and 'ETA' in out
    folder = work / 'slow' / 'seed1'
    record = json.loads((folder / 'record.json').read_text())
    ckpt = Path(ROOT, record['checkpoint']['path'])
    assert ckpt.name == 'iter_4.pth'
    assert record['checkpoint']['sha256'] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert record['config_hash'] == hashlib.sha256(
        (folder / 'resolved_config.json').read_bytes()).hexdigest()
    assert record['commands']['train'] == (
        f'{sys.executable} tools/train.py {TOY} --work-dir {folder} --cfg-options '
        'optim_wrapper.optimizer.lr=0.01 randomness.seed=1')
    assert record['commands']['test'].startswith(f'{sys.executable} tools/test.py {TOY} ')
    assert re.fullmatch(r'[0-9a-f]{40}|unknown', record['git']['commit'])
    assert record['wall_time_s']['train'] > 0 and record['wall_time_s']['test'] > 0
    assert set(record['metrics']) == {'toy/rmse'} and record['metrics']['toy/rmse'] > 0
    assert (record['run'], record['seed'], record['resumed']) == ('slow', 1, False)

    results = json.loads((work / 'page' / 'toy.json').read_text())
    assert results['records'] == [dict(record, stale=False)]
    page = (work / 'page' / 'toy.md').read_text()
    assert (work / 'page' / 'toy.png').read_bytes().startswith(b'\x89PNG')
    assert f"| `slow` | {record['metrics']['toy/rmse']:.4f} (n=1) |" in page
    assert 'Not computed: single-task run `fast` has no finished seed' in page
    plan = plan_study(load_study(str(study)), only=['slow'])
    assert [(p['run'], p['seed'], p['status']) for p in plan] == [('slow', 1, 'done')]


@pytest.mark.slow
def test_toy_study_two_configs_two_seeds_resumes(tmp_path):
    """Two configs x two seeds: stopped after the first run (--max-runs 1) and after a run
    killed in flight, the reruns train exactly what is missing, seed-major."""
    work = tmp_path / 'study'
    study = tmp_path / 'toy_study.py'
    study.write_text(STUDY.format(toy=TOY, work=work))

    code, out = run_tool(study, '--max-runs', '1')
    assert code == 0, out
    assert launched(out) == [('fast', '0')]
    first = work / 'fast' / 'seed0' / 'record.json'
    first_text = first.read_text()
    # a run killed in flight leaves its work dir without a record; seed-major order puts
    # `slow` seed 0 next
    partial = work / 'slow' / 'seed0'
    partial.mkdir(parents=True)
    (partial / '.study_run').write_text('killed\n')
    (partial / 'iter_2.pth').write_text('half-written')

    code, out = run_tool(study)
    assert code == 0, out
    assert launched(out) == [('slow', '0'), ('fast', '1'), ('slow', '1')]
    assert first.read_text() == first_text          # read back, not retrained
    assert not (partial / 'iter_2.pth').exists()    # the partial run was started afresh
    assert {p['status'] for p in plan_study(load_study(str(study)))} == {'done'}

    records = {(r['run'], r['seed']): r for r in
               json.loads((work / 'page' / 'toy.json').read_text())['records']}
    assert sorted(records) == [('fast', 0), ('fast', 1), ('slow', 0), ('slow', 1)]
    rmse = {k: r['metrics']['toy/rmse'] for k, r in records.items()}
    assert rmse[('fast', 0)] != rmse[('fast', 1)]   # the seed reaches the training
    assert rmse[('fast', 0)] != rmse[('slow', 0)]   # and so do the run's cfg_options
    assert records[('fast', 0)]['config_hash'] != records[('slow', 0)]['config_hash']

    page = (work / 'page' / 'toy.md').read_text()
    assert '4 of 4 (run, seed) pairs finished' in page
    mean = statistics.mean([rmse[('slow', 0)], rmse[('slow', 1)]])
    std = statistics.stdev([rmse[('slow', 0)], rmse[('slow', 1)]])
    assert f'| `slow` | {mean:.4f} ± {std:.4f} (n=2) |' in page
    assert '## Paired differences against `fast`' in page


def test_changed_config_makes_a_record_stale(tmp_path):
    """A record trained with another resolved config is not silently reused."""
    lines = []
    work = tmp_path / 'study'
    path = tmp_path / 'toy_study.py'
    path.write_text(STUDY.format(toy=TOY, work=work))
    study = load_study(str(path))
    folder = work / 'fast' / 'seed0'
    folder.mkdir(parents=True)
    (folder / 'record.json').write_text(json.dumps(dict(
        format_version=1, run='fast', seed=0, config_hash='0' * 64, metrics={})))
    status = {(p['run'], p['seed']): p['status'] for p in plan_study(study)}
    assert status == {('fast', 0): 'stale', ('slow', 0): 'todo', ('fast', 1): 'todo',
                      ('slow', 1): 'todo'}
    with pytest.raises(StudyError, match='--stale rerun'):
        run_study(study, 'tools/train.py', 'tools/test.py', log=lines.append)
    assert not (work / 'slow').exists()   # nothing was trained


@pytest.mark.parametrize('key, value, message', [
    ('metrics', "['toy/wobble']", "no direction (higher or lower is better) is known"),
    ('runs', "[dict(name='fast', config='{toy}'), dict(name='fast', config='{toy}')]",
     'run names repeat'),
    ('runs', "[dict(name='fast', config='{toy}', cfg_options={{'randomness.seed': 3}})]",
     'set by the runner'),
    ('runs', "[dict(name='fast', config='{toy}', cfg_options={{'x.y': 'a,b'}})]",
     'would be read back as'),
    ('runs', "[dict(name='fast', config='configs/nothing.py')]", 'does not exist'),
    ('seeds', '[0, 0]', 'distinct non-negative integers'),
    ('reference_run', "'nobody'", "reference_run 'nobody' is not a run"),
    ('delta_keys', 'dict(depth=[])', 'delta_keys must give metric keys'),
    ('single_task_runs', "dict(det='slow')", 'delta_keys must give metric keys'),
    ('colour', "'blue'", "unknown keys ['colour']"),
])
def test_bad_study_files_are_refused_naming_the_file(tmp_path, key, value, message):
    fields = dict(re.findall(r'^(\w+) = (.*?)\n(?=\w|$)',
                             STUDY.format(toy=TOY, work=tmp_path / 'w'), flags=re.M | re.S))
    fields[key] = value.format(toy=TOY)
    path = tmp_path / 'bad.py'
    path.write_text(''.join(f'{k} = {v}\n' for k, v in fields.items()))
    with pytest.raises(StudyError, match=re.escape(message)) as err:
        load_study(str(path))
    assert str(path) in str(err.value)


def test_format_duration():
    assert format_duration(42) == '42 s'
    assert format_duration(552) == '9 min 12 s'
    assert format_duration(3840) == '1 h 04 min'


def test_interrupting_the_runner_stops_the_run_in_flight(tmp_path):
    """Ctrl-C / SIGTERM reach the runner while it waits on a training subprocess: the
    subprocess's process group is stopped, none is left behind."""
    from mtlunder.analysis.study import StudyInterrupted, _run_logged

    child = ('import os, sys, time\n'
             'print("pid", os.getpid())\n'
             'print("Epoch(train) [1][1/9] lr: 0.1 eta: 0:09:00 time: 1.0", flush=True)\n'
             'time.sleep(120)\n')
    shown = []

    def interrupt(line):
        shown.append(line)
        raise StudyInterrupted('test')

    log = tmp_path / 'train.log'
    with pytest.raises(StudyInterrupted):
        _run_logged([sys.executable, '-c', child], str(log), 0.2, interrupt)
    assert shown == ['    Epoch(train) [1][1/9] eta: 0:09:00']
    pid = int(re.search(r'^pid (\d+)$', log.read_text(), re.M).group(1))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
