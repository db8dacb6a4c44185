"""AMTL / DTP potentials read from the recorded single_task_results.json, their errors, and
the TaskKPIHook check that potentials and KPIs are the same metric."""
import json
from types import SimpleNamespace

import pytest
import torch

from mtlunder.balancers import AMTL, DTP, load_potentials
from mtlunder.engine import TaskKPIHook
from mtlunder.evaluation.single_task_results import record_single_task
from tests.fixtures.work_dirs import write_run

KPI_KEYS = dict(det='coco/bbox_mAP', enh='enh/ssim')


@pytest.fixture
def recorded(tmp_path):
    det = write_run(tmp_path / 'det', ['det'], {
        1: {'coco/bbox_mAP': 0.30, 'coco/bbox_mAP_50': 0.6},
        2: {'coco/bbox_mAP': 0.40, 'coco/bbox_mAP_50': 0.7}}, best=2)
    enh = write_run(tmp_path / 'enh', ['enh'], {
        1: {'enh/psnr': 24.0, 'enh/ssim': 0.80, 'enh/input_psnr': 15.0},
        2: {'enh/psnr': 22.0, 'enh/ssim': 0.70, 'enh/input_psnr': 15.0}}, best=1)
    path = tmp_path / 'single_task_results.json'
    record_single_task([det, enh], str(path), show_progress=False)
    return path


def test_amtl_potentials_from_the_recorded_file(recorded):
    bal = AMTL(['det', 'enh'], potentials_file=str(recorded), kpi_keys=KPI_KEYS)
    assert bal.potentials.tolist() == [0.40, 0.80]       # the best checkpoints' records
    scaled = AMTL(['det', 'enh'], potentials_file=str(recorded), kpi_scales=dict(enh=40.0),
                  kpi_keys=dict(det='coco/bbox_mAP', enh='enh/psnr'))
    assert scaled.potentials.tolist() == [0.40, 24.0 / 40.0]
    bal.update_kpis(dict(det=0.2, enh=0.8))
    a = torch.tensor([0.2 / (0.4 * 1.05), 0.8 / (0.8 * 1.05)], dtype=torch.float64)
    v = (1 - a) ** 2
    _, w = bal.combine({'det': torch.tensor(1.0), 'enh': torch.tensor(1.0)})
    assert list(w.values()) == pytest.approx((v / v.sum()).tolist())
    # only the balancer's tasks need a KPI key; the record may hold more tasks
    assert load_potentials(str(recorded), dict(det='coco/bbox_mAP')) == dict(det=0.40)


def test_potential_errors(recorded, tmp_path):
    missing = tmp_path / 'work_dirs' / 'single_task_results.json'
    for balancer in (AMTL, DTP):
        with pytest.raises(FileNotFoundError,
                           match=r'work_dirs/single_task_results\.json does not exist.*'
                                 r'`python tools/analysis/record_single_task\.py WORK_DIR'):
            balancer(['det', 'enh'], potentials_file=str(missing), kpi_keys=KPI_KEYS)
    with pytest.raises(ValueError, match='in \\(0, 1\\].*kpi_scales'):       # PSNR unscaled
        AMTL(['det', 'enh'], potentials_file=str(recorded),
             kpi_keys=dict(det='coco/bbox_mAP', enh='enh/psnr'))
    with pytest.raises(KeyError, match="no potential .* for tasks \\['enh'\\]"):
        AMTL(['det', 'enh'], potentials_file=str(recorded), kpi_keys=dict(det='coco/bbox_mAP'))
    with pytest.raises(KeyError, match="set kpi_keys\\['det'\\]"):
        AMTL(['det', 'enh'], potentials_file=str(recorded),
             kpi_keys=dict(det='coco/segm_mAP', enh='enh/ssim'))
    with pytest.raises(KeyError, match="'enh/input_psnr'"):           # no direction known
        AMTL(['det', 'enh'], potentials_file=str(recorded),
             kpi_keys=dict(det='coco/bbox_mAP', enh='enh/input_psnr'))
    depth = write_run(tmp_path / 'depth', ['depth'], {1: {'depth/rmse': 0.5}}, best=1)
    record_single_task([depth], str(tmp_path / 'depth.json'), show_progress=False)
    with pytest.raises(ValueError, match="'depth/rmse' of task 'depth' is lower-is-better"):
        AMTL(['depth'], potentials_file=str(tmp_path / 'depth.json'),
             kpi_keys=dict(depth='depth/rmse'))
    with pytest.raises(ValueError, match='not both'):
        DTP(['det'], potentials=dict(det=0.5), potentials_file=str(recorded))
    with pytest.raises(ValueError, match='needs potentials or potentials_file'):
        AMTL(['det'])


def test_simple_layouts_still_read(tmp_path):
    path = tmp_path / 'kpis.json'
    path.write_text(json.dumps(dict(det=0.5, enh={'enh/ssim': 0.6})))
    assert load_potentials(str(path), dict(enh='enh/ssim')) == dict(det=0.5, enh=0.6)


def test_dtp_with_and_without_potentials(recorded):
    paper = DTP(['det', 'enh'], gamma=2.0)
    assert paper.potentials is None and 'potentials' not in paper.state_dict()
    achievement = DTP(['det', 'enh'], gamma=2.0, potentials_file=str(recorded),
                      kpi_keys=KPI_KEYS)
    for bal in (paper, achievement):
        bal.update_kpis(dict(det=0.2, enh=0.6))
    kappa = torch.tensor([0.2, 0.6], dtype=torch.float64)
    for bal, k in ((paper, kappa), (achievement, kappa / torch.tensor([0.4, 0.8]).double())):
        expected = -(1 - k) ** 2 * k.log()
        assert torch.allclose(bal.all_weights(), expected)
    assert torch.equal(achievement.state_dict()['potentials'], achievement.potentials)


def test_kpi_hook_checks_the_potentials_metric(recorded):
    bal = AMTL(['det', 'enh'], potentials_file=str(recorded), kpi_keys=KPI_KEYS)
    TaskKPIHook(kpi_keys=KPI_KEYS).check_potential_keys(bal)
    with pytest.raises(ValueError, match="'enh/ssim' / 1, but TaskKPIHook measures its KPI "
                                         "as 'enh/psnr' / 40"):
        TaskKPIHook(kpi_keys=dict(det='coco/bbox_mAP', enh='enh/psnr'),
                    kpi_scales=dict(enh=40.0)).check_potential_keys(bal)
    runner = SimpleNamespace(model=SimpleNamespace(balancer=bal))   # checked before training
    with pytest.raises(ValueError, match="task 'det'"):
        TaskKPIHook(kpi_keys=dict(enh='enh/ssim')).before_train(runner)
    # numbers given directly: nothing to compare
    TaskKPIHook(kpi_keys=KPI_KEYS).check_potential_keys(AMTL(['det'], potentials=dict(det=1.0)))
