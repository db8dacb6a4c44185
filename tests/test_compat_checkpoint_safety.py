"""compat: checkpoints load with weights_only=True and an explicit allow-list."""
import os.path as osp

import numpy as np
import pytest
import torch

from mtlunder import compat


@pytest.fixture(autouse=True)
def safe_loader():
    compat.install_safe_checkpoint_loader()


def test_mmengine_globals_are_allowed(tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint

    path = tmp_path / 'ok.pth'
    buf = HistoryBuffer()
    buf.update(1.5)
    torch.save(dict(meta=dict(seed=np.int64(3), arr=np.arange(3, dtype=np.float32)),
                    message_hub=dict(log_scalars={'loss': buf}),
                    state_dict={'w': torch.ones(2)}, idx=slice(0, 2)), path)
    ckpt = _load_checkpoint(str(path))
    assert ckpt['message_hub']['log_scalars']['loss'].current() == 1.5
    assert ckpt['meta']['arr'].dtype == np.float32 and ckpt['meta']['seed'] == 3


def test_forbidden_global_is_refused_with_its_name(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={'w': torch.ones(1)}, hook=osp.join), path)
    with pytest.raises(compat.UnsafeCheckpointError) as err:
        _load_checkpoint(str(path))
    message = str(err.value)
    assert 'posixpath.join' in message and compat.TRUSTED_ENV in message
    assert str(path) in message
    # the explicit, per-file opt-in loads it fully
    with compat.trust_checkpoint(str(path)):
        assert _load_checkpoint(str(path))['hook'] is osp.join
    with pytest.raises(compat.UnsafeCheckpointError):
        _load_checkpoint(str(path))


def test_safety_is_not_disabled_globally(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(hook=osp.join), path)
    import pickle

    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.safe_load(str(tmp_path / 'nope.pth'))
