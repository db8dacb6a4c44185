"""Inference API: build a trained multi-task model and run it on images.

Thin wrappers of MMDetection's ``init_detector`` / ``inference_detector`` that register the
mtlunder scope and load checkpoints through the safe loader (``mtlunder.compat``).
"""
from typing import Optional, Sequence, Union

import numpy as np


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """Build a model from a config file (or :class:`Config`) and load ``checkpoint``.

    Returns:
        The model in eval mode, with ``model.cfg`` and ``model.dataset_meta`` set.
    """
    from mmdet.apis import init_detector

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    return init_detector(config, checkpoint, device=device, cfg_options=cfg_options)


def inference_multitask(model, imgs: Union[str, np.ndarray, Sequence]):
    """Run ``model`` on image paths or BGR uint8 arrays [H, W, 3].

    Returns:
        One :class:`MultiTaskDataSample` (or a list for a list input) with
        ``pred_instances`` (boxes in input pixels) and ``pred_clean`` (enhanced image,
        float [3, H, W] RGB in [0, 1]) for the heads the model has.
    """
    from mmdet.apis import inference_detector

    return inference_detector(model, imgs)
