"""Inference API: build a trained multi-task model and run it on images.

Thin wrappers of MMDetection's ``init_detector`` / ``inference_detector`` that register the
mtlunder scope and load checkpoints through the safe loader (``mtlunder.compat``).
"""
from typing import Optional, Sequence, Union

import numpy as np


def init_model(config, checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None):
    """Build a model from a config file (or :class:`Config`) and load ``checkpoint``.

    Works for every mtlunder model, including those whose backbones are nested (the
    enhance-then-detect cascade): like mmdet, the ``init_cfg`` of every backbone is dropped
    (the checkpoint replaces pretrained weights), wherever the backbone sits in the model.

    Returns:
        The model in eval mode, with ``model.cfg`` and ``model.dataset_meta`` set.
    """
    import copy

    from mmdet.apis import init_detector
    from mmengine.config import Config

    from mtlunder import compat
    from mtlunder.utils import register_all_modules

    register_all_modules()
    compat.install_safe_checkpoint_loader()
    config = copy.deepcopy(config) if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    _drop_backbone_init_cfg(config.model)
    # cfg_options={}: mmdet would otherwise read ``config.model.backbone``, absent for the
    # cascade; the options were merged above
    return init_detector(config, checkpoint, device=device, cfg_options={})


def _drop_backbone_init_cfg(model_cfg: dict) -> None:
    """Set ``init_cfg=None`` in every ``backbone`` dict nested in ``model_cfg``."""
    for key, value in model_cfg.items():
        if isinstance(value, dict):
            if key == 'backbone' and 'init_cfg' in value:
                value['init_cfg'] = None
            _drop_backbone_init_cfg(value)


def build_test_pipeline(cfg, from_array: bool):
    """The config's test pipeline without label loading, reading arrays when asked.

    Works on a deep copy: mmdet's ``inference_detector`` edits ``model.cfg`` in place when it
    switches to ``LoadImageFromNDArray``, which breaks a later call with a file path.
    """
    import copy

    from mmcv.transforms import Compose

    steps = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    steps = [s for s in steps if s['type'] not in ('LoadAnnotations', 'LoadReferenceImage')]
    if from_array:
        steps[0]['type'] = 'mmdet.LoadImageFromNDArray'
    return Compose(steps)


def inference_multitask(model, imgs: Union[str, np.ndarray, Sequence]):
    """Run ``model`` on image paths or BGR uint8 arrays [H, W, 3].

    Returns:
        One :class:`MultiTaskDataSample` (or a list for a list input) with
        ``pred_instances`` (boxes in input pixels) and ``pred_clean`` (enhanced image,
        float [3, H, W] RGB in [0, 1], input size) for the heads the model has.
    """
    import torch

    single = not isinstance(imgs, (list, tuple))
    imgs = [imgs] if single else list(imgs)
    pipelines = {}
    results = []
    for i, img in enumerate(imgs):
        from_array = isinstance(img, np.ndarray)
        if from_array not in pipelines:
            pipelines[from_array] = build_test_pipeline(model.cfg, from_array)
        data = dict(img=img, img_id=i) if from_array else dict(img_path=img, img_id=i)
        data = pipelines[from_array](data)
        data = dict(inputs=[data['inputs']], data_samples=[data['data_samples']])
        with torch.no_grad():
            results.append(model.test_step(data)[0])
    return results[0] if single else results
