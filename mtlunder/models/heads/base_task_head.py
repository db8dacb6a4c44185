"""Base class of the per-pixel task heads (every task of the table but boxes, whose heads are
mmdet's dense heads)."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from torch import Tensor

from mtlunder.structures import TASK_SPECS, TaskSpec


class BaseTaskHead(BaseModule, metaclass=ABCMeta):
    """A head that predicts one dense task of :data:`~mtlunder.structures.TASK_SPECS` and
    writes it to that task's ``pred_field`` (``pred_clean``, ``pred_sem_seg``, ...).

    Call graph::

        loss(feats, inputs, samples)
         ├─ keep the samples that carry the task's gt_field (e.g. gt_clean)
         ├─ forward(feats, inputs)                      -> raw output [B, C, H', W']
         └─ loss_by_feat(output, inputs, samples)       -> {loss name: scalar}
        predict(feats, inputs, samples, rescale)
         ├─ forward(feats, inputs)
         ├─ predict_by_feat(output, inputs)             -> maps [B, C, Hpad, Wpad]
         └─ per sample: crop to img_shape, resize to ori_shape (bilinear, antialiased),
            to_prediction(map) -> sample.<pred_field> = PixelData(data=...)

    Subclasses implement :meth:`forward` and :meth:`loss_by_feat`, and override
    :meth:`predict_by_feat` / :meth:`to_prediction` when the raw output is not the
    prediction (logits -> class map, normalised image -> RGB).

    Attributes:
        task: the task name (class default; a head serving several tasks takes ``task=``).
        requires_inputs: the head reads the normalised batch inputs (image heads); the
            model checks they match the features.
    """

    task: str = ''
    requires_inputs: bool = False

    def __init__(self, task: Optional[str] = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if task is not None:
            self.task = task
        if self.task not in TASK_SPECS or not TASK_SPECS[self.task].is_dense:
            dense = [name for name, spec in TASK_SPECS.items() if spec.is_dense]
            raise ValueError(f'{type(self).__name__}: task {self.task!r} is not a dense task '
                             f'of TASK_SPECS {dense}')

    @property
    def spec(self) -> TaskSpec:
        return TASK_SPECS[self.task]

    @property
    def pred_field(self) -> str:
        """Data-sample field the predictions go to."""
        return self.spec.pred_field

    @abstractmethod
    def forward(self, feats: Sequence[Tensor], inputs: Optional[Tensor]) -> Tensor:
        """Raw output of the levels ``feats`` (finest first) and, for image heads, the
        normalised inputs [B, 3, H, W]."""

    @abstractmethod
    def loss_by_feat(self, output: Tensor, inputs: Optional[Tensor],
                     batch_data_samples: Sequence) -> Dict[str, Tensor]:
        """Losses of ``output`` against the samples' ``gt_field`` (every sample has it)."""

    def predict_by_feat(self, output: Tensor, inputs: Optional[Tensor]) -> Tensor:
        """Per-pixel maps [B, C, Hpad, Wpad] at the padded input size (default: ``output``
        upsampled bilinearly to the inputs' size when they are given)."""
        if inputs is not None and output.shape[2:] != inputs.shape[2:]:
            output = F.interpolate(output, size=inputs.shape[2:], mode='bilinear',
                                   align_corners=False)
        return output

    def to_prediction(self, pred_map: Tensor) -> Tensor:
        """The stored prediction of one map [C, H, W] at the original size (default: as is)."""
        return pred_map

    def set_input_norm(self, mean: Sequence[float], std: Sequence[float], rgb: bool) -> None:
        """The data preprocessor's normalisation, which the model hands to every head;
        heads that read the inputs (:attr:`requires_inputs`) keep it, others ignore it."""

    def upsample(self, output: Tensor, inputs: Optional[Tensor],
                 batch_data_samples: Sequence) -> Tensor:
        """``output`` resized (bilinear) to the padded batch size: the inputs' or the
        samples' ``batch_input_shape``."""
        size = (tuple(inputs.shape[2:]) if inputs is not None else
                tuple(batch_data_samples[0].metainfo['batch_input_shape']))
        if tuple(output.shape[2:]) == size:
            return output
        return F.interpolate(output, size=size, mode='bilinear', align_corners=False)

    def valid_pairs(self, pred: Tensor,
                    batch_data_samples: Sequence) -> List[Tuple[Tensor, Tensor]]:
        """``(prediction [C, h, w], label [C', h, w])`` of every sample inside its valid
        region ``img_shape``; ``pred`` is at the padded batch size. A label smaller than
        the valid region raises a ValueError naming the image."""
        pairs = []
        for row, sample in enumerate(batch_data_samples):
            meta = sample.metainfo
            h, w = meta.get('img_shape', pred.shape[2:])[:2]
            label = getattr(sample, self.spec.gt_field).data
            name = meta.get('img_path', f'sample {row}')
            if label.shape[-2] < h or label.shape[-1] < w:
                raise ValueError(f'{self.spec.gt_field} of {name} has shape '
                                 f'{tuple(label.shape)}, smaller than img_shape {(h, w)}')
            size = tuple(label.shape[-2:])
            if size == tuple(meta.get('ori_shape', (h, w))[:2]) != (h, w) and \
                    size != tuple(meta.get('pad_shape', (h, w))[:2]):
                raise ValueError(f'{self.spec.gt_field} of {name} is at the original size '
                                 f'{size}, not at the input size {(h, w)}: a training '
                                 'pipeline loads the labels before its geometric transforms')
            pairs.append((pred[row, :, :h, :w], label[..., :h, :w].to(pred.device)))
        return pairs

    def loss(self, feats: Sequence[Tensor], inputs: Optional[Tensor],
             batch_data_samples: Sequence) -> Dict[str, Tensor]:
        """Losses of the samples that carry the task's ground truth; ``{}`` when none does."""
        field = self.spec.gt_field
        keep = [i for i, s in enumerate(batch_data_samples) if field in s]
        if not keep:
            return {}
        samples = list(batch_data_samples)
        if len(keep) < len(samples):
            index = torch.as_tensor(keep, device=feats[0].device)
            feats = [f.index_select(0, index) for f in feats]
            inputs = None if inputs is None else inputs.index_select(0, index)
            samples = [samples[i] for i in keep]
        return self.loss_by_feat(self(feats, inputs), inputs, samples)

    def predict(self, feats: Sequence[Tensor], inputs: Optional[Tensor],
                batch_data_samples: Sequence, rescale: bool = True) -> List:
        """Write :attr:`pred_field` of every sample; returns the samples."""
        maps = self.predict_by_feat(self(feats, inputs), inputs)
        for sample, pred_map in zip(batch_data_samples, maps):
            pred_map = to_original_size(pred_map, sample.metainfo, rescale)
            setattr(sample, self.pred_field, PixelData(data=self.to_prediction(pred_map)))
        return list(batch_data_samples)


def fuse_levels(convs: Sequence, feats: Sequence[Tensor], head: str) -> Tensor:
    """``sum_i convs[i](feats[i])``, each upsampled (bilinear) to the finest level's size:
    the light decoder of the pixel and enhancement heads. ``feats``: levels, finest first."""
    if len(feats) < len(convs):
        raise ValueError(f'{head} expects >= {len(convs)} levels, got {len(feats)}')
    size = feats[0].shape[2:]
    x = convs[0](feats[0])
    for conv, feat in zip(convs[1:], feats[1:]):
        x = x + F.interpolate(conv(feat), size=size, mode='bilinear', align_corners=False)
    return x


def to_original_size(pred_map: Tensor, meta: dict, rescale: bool) -> Tensor:
    """[C, Hpad, Wpad] -> valid region ``img_shape`` -> (``rescale``) ``ori_shape``
    (bilinear, antialiased)."""
    h, w = meta.get('img_shape', pred_map.shape[1:])[:2]
    pred_map = pred_map[:, :h, :w]
    if rescale and 'ori_shape' in meta and tuple(meta['ori_shape'][:2]) != (h, w):
        pred_map = F.interpolate(pred_map[None], size=tuple(meta['ori_shape'][:2]),
                                 mode='bilinear', align_corners=False, antialias=True)[0]
    return pred_map
