"""Packing of one transformed sample into ``inputs`` and a :class:`MultiTaskDataSample`."""
import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs
from mmengine.structures import PixelData

from mtlunder.registry import TRANSFORMS
from mtlunder.structures import MultiTaskDataSample


@TRANSFORMS.register_module()
class PackMultiTaskInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` building a :class:`MultiTaskDataSample`.

    Packs ``inputs`` (tensor [3, H, W], channel order of ``img``), the boxes as mmdet
    does, ``gt_seg_map`` as ``gt_sem_seg``, ``gt_clean`` (H x W x 3, same channel order
    as ``img``) as ``PixelData`` of a float tensor [3, H, W] in 0-255, and the metainfo:
    ``tasks`` (tuple, empty when the sample has none) and every key of ``meta_keys``
    present in ``results``.

    ``gt_clean`` must have the input's size after the transforms; a reference that a
    non-paired geometric transform left behind raises a ``ValueError`` naming the files.

    Args:
        meta_keys (Sequence[str]): keys copied into the metainfo when present.
    """

    def __init__(self,
                 meta_keys=('img_id', 'img_path', 'ref_path', 'ori_shape', 'img_shape',
                            'scale_factor', 'flip', 'flip_direction', 'pad_shape',
                            'water_type', 'range_min', 'range_mean', 'range_max',
                            'depth_below_surface')):
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        data_sample = MultiTaskDataSample()
        data_sample.update(packed['data_samples'])
        data_sample.set_metainfo(dict(tasks=tuple(results.get('tasks', ()))))
        if results.get('gt_clean') is not None:
            data_sample.gt_clean = PixelData(data=self._pack_clean(results))
        packed['data_samples'] = data_sample
        return packed

    @staticmethod
    def _pack_clean(results: dict) -> torch.Tensor:
        clean = results['gt_clean']
        if clean.shape[:2] != results['img'].shape[:2]:
            raise ValueError(
                f"reference {results.get('ref_path')} is {clean.shape[:2]} (HxW) but input "
                f"{results.get('img_path')} is {results['img'].shape[:2]} after the "
                'transforms: use the Paired* geometric transforms for samples with a reference')
        return torch.from_numpy(np.ascontiguousarray(clean.transpose(2, 0, 1))).float()
