"""The shipped study files (studies/): they load, run seed-major with the optional cascade
last, and the real-data single-task baselines train on the images of their task only."""
from pathlib import Path

import pytest

from mtlunder.analysis import load_study, plan_study

ROOT = Path(__file__).resolve().parents[2]
BASELINES = ROOT / 'configs' / 'baselines'


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # study files name configs relative to the project root


def test_synthetic_study_is_seed_major_with_the_cascade_last(tmp_path):
    study = load_study('studies/demo_synthetic.py', work_dir=str(tmp_path))
    plan = [(p['run'], p['seed']) for p in plan_study(study)]
    required = ['squad', 'shared-fpn', 'single-det', 'single-enh']
    assert plan == [(r, s) for s in (0, 1, 2) for r in required] + \
        [('cascade', s) for s in (0, 1, 2)]
    assert {p['status'] for p in plan_study(study)} == {'todo'}
    without = plan_study(study, include_optional=False)
    assert [(p['run'], p['seed']) for p in without] == plan[:12]
    assert study.page == 'docs/studies/demo_synthetic.md'
    assert study.results_file == 'docs/studies/demo_synthetic.json'
    # every seed resolves to its own config
    hashes = {(p['run'], p['seed']): p['config_hash'] for p in plan_study(study)}
    assert len(set(hashes.values())) == len(hashes)


def test_real_study_runs_the_real_data_configs(tmp_path):
    study = load_study('studies/demo_real.py', work_dir=str(tmp_path))
    assert [r.name for r in study.runs] == ['squad', 'shared-fpn', 'single-det', 'single-enh']
    assert all(r.config.endswith('-real.py') for r in study.runs)
    assert study.single_task_runs == dict(det='single-det', enh='single-enh')
    assert 'enh/uiqm' in study.metrics


@pytest.mark.parametrize('config, task', [
    ('single-det-retinanet_r18_demo_underwater-real.py', 'det'),
    ('single-enh_r18_demo_underwater-real.py', 'enh')])
def test_real_single_task_baselines_train_on_their_task_only(real_mixed_benchmark, config,
                                                             task):
    from mmengine.config import Config

    from mtlunder.registry import DATASETS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(str(BASELINES / config))
    assert cfg.train_cfg.max_epochs == 18   # the real demo's budget
    (source, ) = cfg.train_dataloader.dataset.sources.values()
    source.dataset.data_root = f'{real_mixed_benchmark}/'
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    tasks = [dataset.get_data_info(i)['tasks'] for i in range(len(dataset))]
    joint = Config.fromfile(str(ROOT / 'configs/squad/squad-retinanet_r18_demo_underwater-real.py'))
    joint.train_dataloader.dataset.data_root = f'{real_mixed_benchmark}/'
    full = DATASETS.build(joint.train_dataloader.dataset)
    labelled = sum(task in full.get_data_info(i)['tasks'] for i in range(len(full)))
    assert set(map(tuple, tasks)) == {(task, )} and len(tasks) == labelled > 0
