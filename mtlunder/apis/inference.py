"""Inference API: build a trained multi-task model and run it on images.

``init_model`` builds a model like MMDetection's ``init_detector``, registering the mtlunder
scope and loading checkpoints through the safe loader (``mtlunder.compat``);
``inference_multitask`` is a thin call of :class:`MultiTaskInferencer`.
"""
from typing import Optional, Sequence, Union

import numpy as np


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """Build a model from a config file (or :class:`Config`) and load ``checkpoint``.

    Like mmdet's ``init_detector`` (SyncBN reverted, checkpoint
    ``meta.dataset_meta`` kept in ``model.dataset_meta``), without building the test
    dataset (a dense multi-task dataset needs its converted folder to build) and for every
    mtlunder model, including those whose backbones are nested (the enhance-then-detect
    cascade): the ``init_cfg`` of every backbone is dropped (the checkpoint replaces
    pretrained weights), wherever the backbone sits in the model.

    Returns:
        The model in eval mode, with ``model.cfg`` and ``model.dataset_meta`` (empty
        without a checkpoint) set.
    """
    import copy

    from mmengine.config import Config
    from mmengine.model.utils import revert_sync_batchnorm
    from mmengine.runner import load_checkpoint

    from mtlunder import compat
    from mtlunder.registry import MODELS
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    config = copy.deepcopy(config) if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    _drop_backbone_init_cfg(config.model)
    model = revert_sync_batchnorm(MODELS.build(config.model))
    dataset_meta = {}
    if checkpoint is not None:
        meta = load_checkpoint(model, checkpoint, map_location='cpu').get('meta', {})
        if 'dataset_meta' in meta:
            dataset_meta = {k.lower(): v for k, v in meta['dataset_meta'].items()}
        elif 'CLASSES' in meta:
            dataset_meta = dict(classes=meta['CLASSES'])
    model.cfg = config
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def _drop_backbone_init_cfg(model_cfg: dict) -> None:
    """Set ``init_cfg=None`` in every ``backbone`` dict nested in ``model_cfg``."""
    for key, value in model_cfg.items():
        if isinstance(value, dict):
            if key == 'backbone' and 'init_cfg' in value:
                value['init_cfg'] = None
            _drop_backbone_init_cfg(value)


def inference_multitask(model, imgs: Union[str, np.ndarray, Sequence]):
    """Run ``model`` (from :func:`init_model`) on image paths or BGR uint8 arrays
    [H, W, 3]: a thin call of :class:`MultiTaskInferencer` (same pipeline, batching and
    image decoding), nothing written, nothing filtered.

    Returns:
        One :class:`MultiTaskDataSample` (or a list for a list input) holding the
        ``pred_field`` of every task the model predicts (:data:`TASK_SPECS`), e.g.
        ``pred_instances`` (boxes in input pixels) and ``pred_clean`` (enhanced image,
        float [3, H, W] RGB in [0, 1], input size).
    """
    from .inferencer import MultiTaskInferencer

    single = not isinstance(imgs, (list, tuple))
    inferencer = MultiTaskInferencer(model, show_progress=False)
    result = inferencer(imgs, return_datasamples=True, pred_score_thr=0.0, write=False)
    if result['skipped']:
        raise OSError(f'cannot read {", ".join(result["skipped"])}')
    return result['predictions'][0] if single else result['predictions']
