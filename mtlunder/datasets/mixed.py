"""Partially annotated mixtures: several datasets in one, each sample labelled only for
the tasks of the dataset it came from."""
import copy
from typing import Dict, List, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from torch.utils.data import Dataset

from mtlunder.registry import DATASETS
from mtlunder.structures import TASK_NAMES, TASK_SPECS, tasks_of_kind

from .seeding import SeededSampleMixin
from .transforms.loading import label_path_key

#: The task whose labels are mmdet ``instances`` (boxes); every other task's label is a
#: file named by ``<task>_path`` / ``ref_path`` (:func:`label_path_key`).
BOX_TASKS = tasks_of_kind('boxes')


@DATASETS.register_module()
class MixedMultiTaskDataset(SeededSampleMixin, Dataset):
    """Concatenation of datasets ("sources"), each with its own pipeline and tasks.

    Sample ``i`` of the mixture is a sample of one source, labelled for the tasks it has
    among that source's ``tasks`` only: its data info ``tasks`` is cut down to them, the
    label paths (``<task>_path``) of the other tasks are set to None and, without a box
    task, its ``instances`` are emptied, so no transform or loss can see a label the source
    does not provide. ``source`` (the source's name) is added to every data info. Samples
    left with no task are dropped and counted in the log. The source's own pipeline
    transforms the data info (VOC detection keeps mmdet's box transforms, NYUD-v2 depth
    its paired crops).

    Call graph::

        full_init()            -> each source's full_init(); kept indices per source
        get_data_info(i)       -> source.get_data_info(j), tasks and labels restricted
        __getitem__(i)         -> source.pipeline(get_data_info(i))   (refetch on None;
                                  under the draw's seed for a SeededIndex)

    Metainfo: ``tasks`` (union, in table order), ``sources`` (name -> ``tasks``,
    ``num_samples``), ``<task>_classes`` for every task of a source whose ``classes``
    name that task's labels (the source's first box or class-map task: ``det`` of a COCO
    set, ``seg`` of a dense set) and ``classes`` = the box task's class names (mmdet's
    convention, read by ``CocoMetric`` and the visualizer), or the first class-map task's
    without a box task. Two sources with the same task must name the same classes.

    Args:
        sources (dict): ``{name: dict(dataset=<dataset cfg or instance>, tasks=[...])}``;
            ``tasks`` defaults to the dataset's metainfo ``tasks``. Order is kept.
        lazy_init (bool): defer loading the sources to :meth:`full_init`.
        max_refetch (int): in training, how many other samples of the same source to try
            when a pipeline returns None. Defaults to 100.
    """

    def __init__(self, sources: Dict[str, dict], lazy_init: bool = False,
                 max_refetch: int = 100):
        if not sources:
            raise ValueError('MixedMultiTaskDataset needs at least one source')
        self.names: Tuple[str, ...] = tuple(sources)
        self.datasets: List[BaseDataset] = []
        self.source_tasks: Dict[str, Tuple[str, ...]] = {}
        for name, cfg in sources.items():
            if not isinstance(cfg, dict) or 'dataset' not in cfg:
                raise TypeError(f"source {name!r}: expected dict(dataset=..., tasks=[...]), "
                                f'got {cfg!r}')
            extra = sorted(set(cfg) - {'dataset', 'tasks'})
            if extra:
                raise TypeError(f'source {name!r}: unknown keys {extra}')
            dataset = cfg['dataset']
            if isinstance(dataset, dict):
                dataset = DATASETS.build(dict(dataset, lazy_init=True))
            self.datasets.append(dataset)
            tasks = cfg.get('tasks', dataset.metainfo.get('tasks'))
            if not tasks:
                raise ValueError(f'source {name!r}: no tasks given and its dataset '
                                 f'{type(dataset).__name__} names none in its metainfo')
            unknown = [t for t in tasks if t not in TASK_NAMES]
            if unknown:
                raise ValueError(f'source {name!r}: unknown tasks {unknown}; expected '
                                 f'names from {TASK_NAMES}')
            self.source_tasks[name] = tuple(t for t in TASK_NAMES if t in tasks)
        self.max_refetch = max_refetch
        self._fully_initialized = False
        self._metainfo = self._merge_metainfo()
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def _merge_metainfo(self) -> dict:
        tasks = tuple(t for t in TASK_NAMES
                      if any(t in ts for ts in self.source_tasks.values()))
        meta = dict(tasks=tasks, sources={})
        owner: Dict[str, str] = {}
        for name, dataset in zip(self.names, self.datasets):
            meta['sources'][name] = dict(tasks=self.source_tasks[name])
            classes = dataset.metainfo.get('classes')
            named = next((t for t in self.source_tasks[name]
                          if TASK_SPECS[t].kind in ('boxes', 'label_map')), None)
            for task in self.source_tasks[name]:
                names = dataset.metainfo.get(f'{task}_classes')
                if names is None and task == named and classes:
                    names = classes
                if names is None:
                    continue
                key = f'{task}_classes'
                if key in meta and tuple(meta[key]) != tuple(names):
                    raise ValueError(f'sources {owner[key]!r} and {name!r} both serve '
                                     f'{task!r} with different classes: '
                                     f'{tuple(meta[key])} vs {tuple(names)}')
                meta[key], owner[key] = tuple(names), name
        first = [t for t in tasks if f'{t}_classes' in meta]
        boxes = [t for t in first if t in BOX_TASKS]
        if first:
            meta['classes'] = meta[f'{(boxes or first)[0]}_classes']
        return meta

    def full_init(self) -> None:
        """Load every source and keep the samples labelled for a task of their source."""
        if self._fully_initialized:
            return
        self._index: List[Tuple[int, int]] = []
        for s, (name, dataset) in enumerate(zip(self.names, self.datasets)):
            dataset.full_init()
            kept = [j for j in range(len(dataset))
                    if self._restricted_tasks(name, dataset.get_data_info(j))]
            dropped = len(dataset) - len(kept)
            print_log(f'MixedMultiTaskDataset: source {name!r}: {len(kept)} samples '
                      f'labelled for {list(self.source_tasks[name])}'
                      + (f', {dropped} without those labels dropped' if dropped else ''),
                      logger='current')
            if not kept:
                raise ValueError(f'source {name!r} ({type(dataset).__name__}) has no sample '
                                 f'labelled for {list(self.source_tasks[name])}')
            self._index.extend((s, j) for j in kept)
            self._metainfo['sources'][name]['num_samples'] = len(kept)
        self._fully_initialized = True

    def _restricted_tasks(self, name: str, info: dict) -> Tuple[str, ...]:
        own = info.get('tasks')
        if own is None:
            raise KeyError(f'source {name!r}: data info of {info.get("img_path")} has no '
                           "'tasks'; a mixed source must say what each sample is labelled for")
        return tuple(t for t in self.source_tasks[name] if t in own)

    def __len__(self) -> int:
        self.full_init()
        return len(self._index)

    def source_of(self, idx: int) -> str:
        """Name of the source of sample ``idx``."""
        self.full_init()
        return self.names[self._index[idx][0]]

    def get_data_info(self, idx: int) -> dict:
        """The source's data info of sample ``idx``, restricted to the source's tasks, with
        ``source`` and ``sample_idx`` (index in the mixture)."""
        self.full_init()
        s, j = self._index[idx]
        name = self.names[s]
        info = self.datasets[s].get_data_info(j)
        keep = self._restricted_tasks(name, info)
        for task in TASK_NAMES:
            if task in keep:
                continue
            if task in BOX_TASKS:
                if 'instances' in info:
                    info['instances'] = []
            elif label_path_key(task) in info:
                info[label_path_key(task)] = None
        info.update(tasks=keep, source=name, sample_idx=idx)
        return info

    def __getitem__(self, idx: int) -> dict:
        self.full_init()
        for _ in range(self.max_refetch + 1):
            s = self._index[idx][0]
            data = self.datasets[s].pipeline(self.get_data_info(idx))
            if data is not None:
                return data
            if self.datasets[s].test_mode:
                break
            same = [i for i, (t, _) in enumerate(self._index) if t == s]
            idx = same[np.random.randint(len(same))]
        raise RuntimeError(f'MixedMultiTaskDataset: the pipeline of source '
                           f'{self.names[s]!r} returned None for sample {idx} '
                           f"({self.get_data_info(idx).get('img_path')})"
                           + ('' if self.datasets[s].test_mode else
                              f' and {self.max_refetch} other samples of it'))

