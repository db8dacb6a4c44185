"""Fixtures shared by the whole suite."""
from pathlib import Path

import pytest
import torch

#: Real public samples kept outside the project (see ../shared/data/README.md).
SHARED_DATA = Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data'


@pytest.fixture(scope='session')
def shared_data():
    """Path of ../shared/data; skips the test when the samples are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f'real samples not found at {SHARED_DATA} (a user checkout has no '
                    '../shared/data)')
    return SHARED_DATA.resolve()


@pytest.fixture(scope='module')
def single_thread():
    """One intra-op thread for tiny tensors: on a 2-core box shared with other jobs, OpenMP
    threads fighting for the cores make small models 10-50x slower. Restored after the
    module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def real_mixed_benchmark(shared_data, tmp_path_factory):
    """The mixed benchmark of the real samples: RUIE-UTTS detection (urchin = echinus) and
    LSUI + EUVP pairs, split 0.8 / 0.2, built once per session; its root folder."""
    from mtlunder.data_converters import SourceSpec, build_underwater_benchmark

    out = tmp_path_factory.mktemp('real') / 'underwater_real'
    build_underwater_benchmark(
        out,
        det_sources=[SourceSpec('ruie_utts', 'voc', shared_data / 'ruie_utts')],
        enh_sources=[SourceSpec('lsui', 'generic', shared_data / 'lsui_pairs'),
                     SourceSpec('euvp', 'generic', shared_data / 'euvp_pairs')],
        class_map={'urchin': 'echinus'}, split=(0.8, 0.2), show_progress=False)
    return out


@pytest.fixture(scope='session')
def voc_nyud_demo(shared_data, tmp_path_factory):
    """The VOC + NYUD-v2 demo data (``build_voc_nyud_demo``) built once per session; its
    root folder (``voc/``, ``nyud/``)."""
    from mtlunder.data_converters import build_voc_nyud_demo

    out = tmp_path_factory.mktemp('voc_nyud') / 'voc_nyud_demo'
    build_voc_nyud_demo(shared_data, out, show_progress=False)
    return out
