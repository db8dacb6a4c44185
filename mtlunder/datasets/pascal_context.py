"""PASCAL-Context in the PASCAL_MT multi-task setting (semseg, human parts, saliency,
surface normals, edges), as ``data_tools/convert_pascal_context.py`` writes it."""
from typing import Dict, List, Tuple

from mtlunder.registry import DATASETS

from .dense import DenseMultiTaskDataset

#: The command that writes the dataset (``docs/pascal_context.md``).
CONVERT_COMMAND = 'python data_tools/convert_pascal_context.py data/PASCAL_MT data/pascal_context'


@DATASETS.register_module()
class PascalContextDataset(DenseMultiTaskDataset):
    """The dense format of :class:`DenseMultiTaskDataset`, written by
    ``data_tools/convert_pascal_context.py``, with the bundled class names checked.

    Labels (``docs/pascal_context.md``): ``seg`` uint8 class index (``seg_source``
    ``'context59'``: 60 classes, 0 = background, 1..59 the classes of
    :data:`~mtlunder.data_converters.pascal_context_classes.CONTEXT59`; ``'voc21'``: the
    21 VOC classes of the ``semseg/`` PNGs, 255 = ignore), ``parts`` (7: background + 6
    human parts; only images with a human part are labelled), ``sal`` {0, 1}, ``normal``
    float32 unit vectors, ``edge`` {0, 1}.

    Metainfo: ``classes`` (the bundled names of ``seg_source``), ``parts_classes``
    (``PARTS_CLASSES``), ``tasks``. ``meta.json``'s ``seg_classes`` and ``parts_classes``
    must be exactly those, else a ``ValueError`` names ``meta.json`` and the conversion
    to run (a dataset of a user mapping is read with ``DenseMultiTaskDataset``).

    ``filter_cfg=dict(drop_unlabelled=True)`` keeps only the samples labelled for at least
    one of ``tasks`` (a parts-only model reads the images with a human part, as ASTMT's
    loader does when parts is the only task).

    Args:
        data_root (str): the converted folder.
        seg_source (str): ``'context59'`` (default) or ``'voc21'``, as converted.
        **kwargs: the arguments of :class:`DenseMultiTaskDataset` (``split``, ``tasks``,
            ``pipeline``, ``filter_cfg``, ...).
    """

    converters = (f'data_tools/convert_pascal_context.py ({CONVERT_COMMAND}; '
                  'docs/pascal_context.md)')

    def __init__(self, data_root: str, seg_source: str = 'context59', **kwargs) -> None:
        expected = self.bundled_classes()
        if seg_source not in expected:
            raise ValueError(f'PascalContextDataset: seg_source {seg_source!r}; expected one '
                             f'of {list(expected)}')
        self.seg_source = seg_source
        super().__init__(data_root, **kwargs)

    @staticmethod
    def bundled_classes() -> Dict[str, Dict[str, Tuple[str, ...]]]:
        """``seg_source`` -> {``meta.json`` key: the bundled class names}."""
        from mtlunder.data_converters.pascal import PARTS_CLASSES, SEG_CLASSES

        return {source: dict(seg_classes=tuple(names), parts_classes=PARTS_CLASSES)
                for source, names in SEG_CLASSES.items() if names}

    def _read_meta(self) -> dict:
        meta = super()._read_meta()
        for key, names in self.bundled_classes()[self.seg_source].items():
            found = tuple(meta.get(key) or ())
            if found != names:
                shown = found if len(found) <= 8 else found[:4] + ('...', ) + found[-2:]
                raise ValueError(
                    f'{self.meta_file}: {key} ({len(found)}: {shown}) are not the bundled '
                    f'PASCAL-Context {self.seg_source!r} classes ({len(names)}: {names[0]!r} '
                    f'... {names[-1]!r}); convert with "{CONVERT_COMMAND} --seg-source '
                    f'{self.seg_source}", or read a dataset of your own mapping with '
                    'DenseMultiTaskDataset')
        return meta

    def filter_data(self) -> List[dict]:
        """All data infos, or with ``filter_cfg=dict(drop_unlabelled=True)`` those with a
        task."""
        if (self.filter_cfg or {}).get('drop_unlabelled'):
            return [info for info in self.data_list if info['tasks']]
        return self.data_list
