from pathlib import Path

import pytest

#: Real public samples kept outside the project (see ../shared/data/README.md).
SHARED_DATA = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data'


@pytest.fixture
def shared_data():
    """Path of ../shared/data; skips the test when the samples are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f'real samples not found at {SHARED_DATA} (a user checkout has no '
                    '../shared/data)')
    return SHARED_DATA.resolve()
