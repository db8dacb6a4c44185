"""Fixtures of the hook tests: one intra-op thread per module (tests/conftest.py
``single_thread``), as the toy models are tiny."""
import pytest


@pytest.fixture(scope='module', autouse=True)
def _single_thread_modules(single_thread):
    yield
