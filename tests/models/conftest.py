"""Fixtures of the model tests (backbones, necks, heads, detectors): mtlunder's registries
and scope, and one intra-op thread per module (tests/conftest.py ``single_thread``)."""
import pytest

from mtlunder.utils import register_all_modules


@pytest.fixture(scope='session', autouse=True)
def mtlunder_scope():
    register_all_modules()


@pytest.fixture(scope='module', autouse=True)
def _single_thread_modules(single_thread):
    """Every model test module runs with one thread."""
    yield
