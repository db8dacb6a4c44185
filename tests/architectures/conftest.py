"""Shared fixtures of the architecture tests."""
import importlib.util
from pathlib import Path

import pytest

from mtlunder.utils import register_all_modules

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'analysis'


@pytest.fixture(scope='session', autouse=True)
def mtlunder_scope():
    register_all_modules()


@pytest.fixture(scope='module', autouse=True)
def _single_thread_modules(single_thread):
    """Every architecture test module runs with one thread (tests/conftest.py)."""
    yield


@pytest.fixture(scope='session')
def load_tool():
    """Import ``tools/analysis/<name>.py`` as a module (tools/ is not a package)."""
    def load(name: str):
        spec = importlib.util.spec_from_file_location(f'analysis_{name}', TOOLS / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
