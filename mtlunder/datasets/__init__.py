from .dense import DenseMultiTaskDataset
from .mixed import MixedMultiTaskDataset
from .pascal_context import PascalContextDataset
from .samplers import SeededSampler, TaskBalancedBatchSampler
from .transforms import *  # noqa: F401,F403
from .underwater import UnderwaterMultiTaskDataset
from .voc import VOCMultiTaskDataset

__all__ = ['DenseMultiTaskDataset', 'MixedMultiTaskDataset', 'PascalContextDataset',
           'SeededSampler', 'TaskBalancedBatchSampler', 'UnderwaterMultiTaskDataset',
           'VOCMultiTaskDataset']
