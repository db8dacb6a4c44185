"""Shared fixtures of the architecture tests."""
import pytest

from mtlunder.utils import register_all_modules


@pytest.fixture(scope='session', autouse=True)
def mtlunder_scope():
    register_all_modules()


@pytest.fixture(scope='module', autouse=True)
def _single_thread_modules(single_thread):
    """Every architecture test module runs with one thread (tests/conftest.py)."""
    yield
