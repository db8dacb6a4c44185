"""Enhance-then-detect cascade: an enhancement network followed by a detector on its output."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.structures import PixelData
from torch import Tensor, nn

from mtlunder.registry import MODELS
from mtlunder.structures import TASK_SPECS, tasks_of_kind
from ..base_multitask_model import BaseMultiTaskModel
from ..heads import EnhancementHead, to_original_size
from .multitask_detector import MultiTaskDetector

#: the cascade's two tasks, from the task table: the image task and the boxes task
(ENH, ), (DET, ) = tasks_of_kind('image'), tasks_of_kind('boxes')


@MODELS.register_module()
class CascadeEnhanceDetect(BaseMultiTaskModel):
    """The two-network pipeline users build without multi-task learning.

    Call graph (protocol of :class:`BaseMultiTaskModel`)::

        extract_shared(inputs)     -> enhancer levels
        loss_from_shared(levels, samples, inputs)
         ├─ enhanced = enh head(levels, inputs), clamped to the valid range
         ├─ detector.loss(enhanced (detached if detach_enhanced), samples)   -> det.*
         └─ enh head.loss(levels of the enh-labelled samples, ...)           -> enh.*
        predict(inputs, samples)   -> pred_clean, then the detector on the enhanced image

    ``enhancer`` (a :class:`MultiTaskDetector` with only an ``'enh'`` head, e.g.
    ``EnhancementHead``) restores the normalised input [B, 3, H, W]; its output, clamped to
    the valid 0-255 range and normalised again with the same mean/std (the detector sees what
    it would see if the enhanced image were saved and reloaded), is the input of ``detector``
    (a :class:`MultiTaskDetector` with only a ``'det'`` head). Both sub-models use this
    model's data preprocessor.

    Training modes:
        - end to end (``detach_enhanced=False``): the detection loss back-propagates through
          the enhanced image into the enhancer, which also gets the enhancement loss;
        - separate (``detach_enhanced=True``): the enhancer learns only from the enhancement
          loss, the detector only from the detection loss. To start from a trained enhancer
          (e.g. a ``single-enh`` checkpoint, whose keys ``backbone.*``, ``neck.*``,
          ``heads.enh.*`` are the enhancer's), set
          ``enhancer=dict(init_cfg=dict(type='Pretrained', checkpoint=PATH))``; freeze it with
          ``optim_wrapper.paramwise_cfg.custom_keys={'enhancer': dict(lr_mult=0,
          decay_mult=0)}``. A whole cascade checkpoint loads with ``load_from``.

    Loss keys: ``det.*`` (samples labelled ``det``) then ``enh.*`` (samples labelled ``enh``
    that have ``gt_clean``); a task absent from the batch gives no key. ``predict`` fills
    ``pred_instances`` and ``pred_clean`` ([3, H, W] RGB in [0, 1] at ``ori_shape``) like
    :class:`MultiTaskDetector`; ``tensor`` mode returns ``{'enh': enhanced [B, 3, H, W]
    (normalised), 'det': raw detection head outputs}``.

    For :class:`GradConflictHook`: the enhancer's parameters are the only ones both losses
    reach (:meth:`shared_parameters`); the detector is ``det``-exclusive.

    Args:
        enhancer: config of the enhancement model (its ``data_preprocessor`` is replaced).
        detector: config of the detection model (its ``data_preprocessor`` is replaced).
        detach_enhanced: stop the detection gradient at the enhanced image.
        data_preprocessor: e.g. ``MultiTaskDataPreprocessor`` (normalises input and
            ``gt_clean`` alike).
        init_cfg: mmengine init config.
    """

    def __init__(self, enhancer: dict, detector: dict, detach_enhanced: bool = False,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None):
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.enhancer = self._build_part('enhancer', enhancer, ENH)
        self.detector = self._build_part('detector', detector, DET)
        self.detach_enhanced = detach_enhanced
        if not isinstance(self.enh_head, EnhancementHead):
            raise TypeError('CascadeEnhanceDetect: the enhancer\'s enh head must be an '
                            f'EnhancementHead, got {type(self.enh_head).__name__}')

    def _build_part(self, name: str, cfg: dict, task: str) -> MultiTaskDetector:
        cfg = dict(cfg)
        cfg['data_preprocessor'] = self.data_preprocessor
        part = MODELS.build(cfg)
        if not isinstance(part, MultiTaskDetector) or tuple(part.tasks) != (task, ):
            got = list(part.tasks) if isinstance(part, MultiTaskDetector) \
                else type(part).__name__
            raise ValueError(f'CascadeEnhanceDetect: {name} must be a MultiTaskDetector with '
                             f'exactly one head, {task!r}; got {got}')
        return part

    @property
    def enh_head(self) -> nn.Module:
        """The enhancer's ``'enh'`` head."""
        return self.enhancer.heads[ENH]

    @property
    def tasks(self) -> Tuple[str, ...]:
        """``('det', 'enh')``."""
        return (DET, ENH)

    # ------------------------------------------------------------------ features
    def extract_shared(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        """The enhancer's ``enh`` levels (what both losses reach)."""
        return self.enhancer.extract_feat(batch_inputs)[ENH]

    def _enhanced(self, feats: Sequence[Tensor], batch_inputs: Tensor) -> Tensor:
        """The detector input [B, 3, H, W]: the enhanced image clamped to [0, 255] in the
        inputs' normalisation (gradients pass where the clamp is inactive)."""
        head = self.enh_head
        enhanced = head(feats, batch_inputs)
        return enhanced.clamp(min=-head.mean / head.std, max=(255.0 - head.mean) / head.std)

    def enhance(self, batch_inputs: Tensor) -> Tuple[Tuple[Tensor, ...], Tensor]:
        """Enhancer features (``enh`` levels) and the detector input [B, 3, H, W]."""
        feats = self.extract_shared(batch_inputs)
        return feats, self._enhanced(feats, batch_inputs)

    # ------------------------------------------------------------------ training
    def loss_from_shared(self, shared: Sequence[Tensor], batch_data_samples: Sequence,
                         batch_inputs: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """``det.*`` and ``enh.*`` losses of the tasks labelled in the batch."""
        if batch_inputs is None:
            raise RuntimeError('CascadeEnhanceDetect.loss_from_shared needs batch_inputs: '
                               'the enhancer head reads them')
        feats = tuple(shared)
        enhanced = self._enhanced(feats, batch_inputs)
        det_inputs = enhanced.detach() if self.detach_enhanced else enhanced
        losses = dict(self.detector.loss(det_inputs, batch_data_samples))
        keep = self.labelled_indices(ENH, batch_data_samples)
        if keep:
            samples = list(batch_data_samples)
            inputs = batch_inputs
            if len(keep) < len(samples):
                index = torch.as_tensor(keep, device=batch_inputs.device)
                feats = tuple(f.index_select(0, index) for f in feats)
                inputs = batch_inputs.index_select(0, index)
                samples = [samples[i] for i in keep]
            enh_losses = self.enh_head.loss(feats, inputs, samples)
            losses.update({f'{ENH}.{name}': value for name, value in enh_losses.items()})
        return losses

    # ------------------------------------------------------------------ inference
    def predict(self, batch_inputs: Tensor, batch_data_samples: Sequence,
                rescale: bool = True) -> list:
        """Boxes (``pred_instances``) of the detector on the enhanced image and
        ``pred_clean`` (cropped to ``img_shape``, resized to ``ori_shape`` when ``rescale``).
        """
        _, enhanced = self.enhance(batch_inputs)
        head = self.enh_head
        for sample, image in zip(batch_data_samples, head.predict_by_feat(enhanced, None)):
            image = head.to_prediction(to_original_size(image, sample.metainfo, rescale))
            setattr(sample, TASK_SPECS[ENH].pred_field, PixelData(data=image))
        return self.detector.predict(enhanced, batch_data_samples, rescale=rescale)

    def _forward(self, batch_inputs: Tensor, batch_data_samples=None) -> Dict[str, object]:
        """``{'enh': enhanced [B, 3, H, W] (normalised), 'det': raw detector outputs}``."""
        _, enhanced = self.enhance(batch_inputs)
        return {ENH: enhanced, **self.detector(enhanced, batch_data_samples, mode='tensor')}

    # ------------------------------------------------------------------ parameters
    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """``det``: the detector; ``enh``: none (every enhancer weight also serves ``det``)."""
        if task not in self.tasks:
            raise KeyError(f'CascadeEnhanceDetect: task {task!r} is not one of {self.tasks}')
        return list(self.detector.parameters()) if task == DET else []

    def shared_parameters(self) -> List[nn.Parameter]:
        """The enhancer's parameters (reached by both losses in end-to-end mode)."""
        return list(self.enhancer.parameters())
