"""Fixtures shared by the whole suite."""
import pytest
import torch


@pytest.fixture(scope='module')
def single_thread():
    """One intra-op thread for tiny tensors: on a 2-core box shared with other jobs, OpenMP
    threads fighting for the cores make small models 10-50x slower. Restored after the
    module."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
