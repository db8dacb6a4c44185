"""Packing of one transformed sample into ``inputs`` and a :class:`MultiTaskDataSample`."""
import numpy as np
import torch
from mmdet.datasets.transforms import PackDetInputs
from mmengine.structures import PixelData

from mtlunder.registry import TRANSFORMS
from mtlunder.structures import TASK_SPECS, MultiTaskDataSample

from .geometric import MMDET_SEG_KEY
from .loading import LABELS_AT_ORI_SHAPE, label_path_key

#: The dense tasks of the table, packed as ``PixelData`` into their ``gt_field``.
DENSE_SPECS = tuple(spec for spec in TASK_SPECS.values() if spec.is_dense)


@TRANSFORMS.register_module()
class PackMultiTaskInputs(PackDetInputs):
    """mmdet's ``PackDetInputs`` building a :class:`MultiTaskDataSample`.

    Packs ``inputs`` (tensor [3, H, W], channel order of ``img``), the boxes as mmdet
    does, and every dense label of :data:`TASK_SPECS` present in ``results`` into its
    ``gt_field``:

    - label maps: long [1, H, W]; ``gt_seg_map`` -> ``gt_sem_seg`` holds the tensor as
      ``data`` (every dense field's key) and as ``sem_seg`` (mmdet's key, as mmdet packs
      it); ``gt_edge``, ``gt_sal``, ``gt_parts``: ``PixelData(data=...)``.
    - depth ``gt_depth``: ``PixelData(data=...)``, float [1, H, W], metres; normals
      ``gt_normal``: float [3, H, W].
    - the reference ``gt_clean`` (H x W x 3, same channel order as ``img``):
      ``PixelData(data=...)`` of a float tensor [3, H, W] in 0-255.

    And the metainfo: ``tasks`` (tuple, empty when the sample has none) and every key of
    ``meta_keys`` present in ``results``.

    Every dense label must have the input's size after the transforms; one that a
    non-paired geometric transform left behind raises a ``ValueError`` naming its file
    (``ref_path`` / ``<task>_path``) and the input.

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
        for spec in DENSE_SPECS:
            if results.get(spec.results_key) is None:
                continue
            tensor = self._to_tensor(spec, results)
            if spec.results_key == MMDET_SEG_KEY:  # packed by mmdet (uint8, sem_seg only)
                data_sample.gt_sem_seg.sem_seg = tensor
                data_sample.gt_sem_seg.data = tensor
            else:
                setattr(data_sample, spec.gt_field, PixelData(data=tensor))
        packed['data_samples'] = data_sample
        return packed

    @staticmethod
    def _to_tensor(spec, results: dict) -> torch.Tensor:
        """The label of ``spec`` as [C, H, W]: long for label maps, float otherwise."""
        label = results[spec.results_key]
        # at the input size (training), or at the original size for a label loaded after
        # the resize of a test pipeline (what the metrics compare with, as in mmseg)
        evaluation = spec.kind != 'image' and results.get(LABELS_AT_ORI_SHAPE, False) and \
            tuple(label.shape[:2]) == tuple(results['ori_shape'][:2])
        if label.shape[:2] != results['img'].shape[:2] and not evaluation:
            kind = 'reference' if spec.kind == 'image' else f'{spec.name} label'
            raise ValueError(
                f'{kind} {results.get(label_path_key(spec.name))} is {label.shape[:2]} (HxW) '
                f"but input {results.get('img_path')} is {results['img'].shape[:2]} after "
                'the transforms: use the Paired* geometric transforms for samples with '
                'dense labels')
        chw = label[None] if label.ndim == 2 else label.transpose(2, 0, 1)
        tensor = torch.from_numpy(np.ascontiguousarray(chw))
        return tensor.long() if spec.kind == 'label_map' else tensor.float()
