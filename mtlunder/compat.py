"""Adapters between the pinned OpenMMLab stack (mmengine 0.10.7, mmcv 2.1.0) and torch 2.13.

The workarounds live here and nowhere else (DESIGN.md, "compat"):

1. **Safe checkpoint loading.** torch >= 2.6 loads with ``weights_only=True``; mmengine
   checkpoints hold a few harmless non-tensor globals (``HistoryBuffer`` in the message hub,
   numpy arrays and scalars, ``getattr``, ``slice``). :func:`install_safe_checkpoint_loader`
   replaces mmengine's local-file loader with one that keeps ``weights_only=True`` and allows
   exactly :func:`safe_globals`. Any other global is refused with
   :class:`UnsafeCheckpointError`, which names it. Full unpickling happens only for files the
   user marks as trusted, explicitly, with :func:`trust_checkpoint` or the environment
   variable ``MTLUNDER_TRUSTED_CHECKPOINTS`` (``os.pathsep``-separated file paths).
2. **Distributed training on CPU.** mmengine's launchers call ``torch.cuda.set_device`` and
   wrap DDP with ``device_ids=[LOCAL_RANK]``. :func:`setup_cpu_distributed` initialises a
   ``gloo`` process group from the launcher's environment first and makes the wrapper use
   ``device_ids=None``.
3. **AMP on CPU.** ``AmpOptimWrapper`` asserts a GPU. :class:`CPUAutocastOptimWrapper` is the
   explicit CPU path: bfloat16 autocast, no loss scaling (bf16 has fp32's exponent range).
4. **Model wrappers of the mtlunder scope.** mmengine's ``Runner.wrap_model`` looks
   ``model_wrapper_cfg.type`` up with ``get`` on mmengine's root registry, which does not
   search child scopes: ``type='MultiTaskDDP'`` resolves to ``None`` and the run dies with
   ``TypeError: issubclass() arg 1 must be a class``. :func:`resolve_model_wrapper` rewrites
   a wrapper of mtlunder's registry to its import path, which ``get`` resolves.
5. **Process-group teardown.** torch 2.13's gloo teardown can abort a finished run at
   interpreter exit (``terminate called without an active exception``, exit -6) or hang it.
   :func:`exit_distributed` ends a distributed process once its work is saved, without that
   teardown.
"""
import functools
import os
import os.path as osp
import pickle
import re
import subprocess
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mtlunder.registry import OPTIM_WRAPPERS

TRUSTED_ENV = 'MTLUNDER_TRUSTED_CHECKPOINTS'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a global outside :func:`safe_globals` and was not trusted."""


@functools.lru_cache(maxsize=None)
def safe_globals() -> tuple:
    """The explicit allow-list of non-tensor globals found in mmengine checkpoints."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in
                     (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
                      np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.bool_)]
    return (HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar, getattr, slice,
            *dtype_classes)


def _trusted_paths() -> set:
    raw = os.environ.get(TRUSTED_ENV, '')
    return {osp.realpath(p) for p in raw.split(os.pathsep) if p}


@contextmanager
def trust_checkpoint(path: str):
    """Allow full unpickling of one checkpoint file you trust, inside this context."""
    old = os.environ.get(TRUSTED_ENV)
    os.environ[TRUSTED_ENV] = os.pathsep.join(
        filter(None, [old, osp.realpath(path)]))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(TRUSTED_ENV, None)
        else:
            os.environ[TRUSTED_ENV] = old


def safe_load(filename: str, map_location=None):
    """``torch.load`` with ``weights_only=True`` and :func:`safe_globals`.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the file needs another global and is not trusted; the message
            names the global and the opt-in.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if osp.realpath(filename) in _trusted_paths():
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(list(safe_globals())):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r'GLOBAL\s+([\w.]+)', str(err))
        name = found.group(1) if found else 'an unsupported global'
        raise UnsafeCheckpointError(
            f'Refused to load checkpoint {filename}: it needs the global `{name}`, which is '
            'not in mtlunder.compat.safe_globals() and could run arbitrary code when '
            'unpickled. If you trust this file, opt in explicitly with '
            f'{TRUSTED_ENV}={osp.realpath(filename)} (or mtlunder.compat.trust_checkpoint).'
        ) from err


def install_safe_checkpoint_loader() -> None:
    """Route mmengine's local checkpoint loading (resume, ``load_from``, hooks) through
    :func:`safe_load`."""
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes='', loader=safe_load, force=True)


def _slurm_env() -> None:
    """Set torch.distributed's env variables from SLURM's, as mmengine's slurm launcher does."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """Prepare a CPU-only distributed run (gloo); no-op when CUDA is present.

    Initialises the process group before the Runner (which then skips its own CUDA-only
    initialisation) and sets ``cfg.model_wrapper_cfg.device_ids = None``.

    Returns:
        True when the gloo path was taken.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    import torch.distributed as dist

    if launcher == 'slurm':
        _slurm_env()
    elif launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} is not supported on CPU; use pytorch or slurm')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    return True


def exit_distributed() -> None:
    """End a distributed process whose run has finished; return at once when none is set up.

    It destroys the default process group, flushes and closes the logging handlers and the
    standard streams, and ends the process with ``os._exit(0)``, skipping the interpreter's
    teardown. That teardown frees the DDP ``Reducer`` and with it gloo's process group, whose
    destructor joins its run-loop threads while the caller holds the GIL. On torch 2.13 this
    races with the thread releasing its last finished work: the process hangs, or aborts with
    ``terminate called without an active exception`` (exit -6) after every checkpoint was
    written, and ``torchrun`` reports the run as failed (about one 2-process run in 15 on this
    project's CI machine). Call it last: after ``runner.train()`` / ``runner.test()`` the
    visualizer is closed and every file is written (mmengine's ``LoggerHook.after_run``).
    """
    import logging
    import sys

    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.destroy_process_group()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def resolve_model_wrapper(cfg) -> None:
    """Rewrite ``cfg.model_wrapper_cfg.type`` naming a wrapper of mtlunder's
    ``MODEL_WRAPPERS`` (e.g. ``'MultiTaskDDP'``) to the class's import path
    (``'mtlunder.engine.model_wrappers.MultiTaskDDP'``), so that mmengine's root-registry
    lookup in ``Runner.wrap_model`` finds it; mmengine's own wrappers are left alone."""
    from mmengine.registry import MODEL_WRAPPERS as ROOT_WRAPPERS

    from mtlunder.registry import MODEL_WRAPPERS

    wrapper = cfg.get('model_wrapper_cfg')
    name = wrapper.get('type') if wrapper else None
    if not isinstance(name, str) or ROOT_WRAPPERS.get(name) is not None:
        return
    wrapper_cls = MODEL_WRAPPERS.get(name)
    if wrapper_cls is None:
        raise KeyError(f'model_wrapper_cfg.type {name!r} is not a registered model wrapper')
    wrapper['type'] = f'{wrapper_cls.__module__}.{wrapper_cls.__qualname__}'


def enable_amp(cfg) -> str:
    """Switch ``cfg.optim_wrapper`` to mixed precision for the available device.

    CUDA: mmengine's ``AmpOptimWrapper`` with dynamic loss scaling. CPU: the explicit
    bfloat16 autocast path :class:`CPUAutocastOptimWrapper`.

    Returns:
        The optim wrapper type that was set.
    """
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type not in ('OptimWrapper', 'AmpOptimWrapper', 'CPUAutocastOptimWrapper'):
        raise ValueError(f'--amp cannot convert optim_wrapper type {wrapper_type!r}; '
                         'set an AMP-capable optim wrapper in the config instead')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'CPUAutocastOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)
    return cfg.optim_wrapper.type


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """Mixed precision on CPU: bfloat16 (or float16) autocast in the forward, fp32 parameters
    and optimiser state, no loss scaling."""

    def __init__(self, dtype: str = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f'CPU autocast dtype must be bfloat16 or float16, got {dtype}')
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), \
                torch.autocast(device_type='cpu', dtype=self.cast_dtype):
            yield
