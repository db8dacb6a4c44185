from .dense import DenseMultiTaskDataset
from .mixed import MixedMultiTaskDataset
from .pascal_context import PascalContextDataset
from .samplers import TaskBalancedBatchSampler
from .transforms import *  # noqa: F401,F403
from .underwater import UnderwaterMultiTaskDataset
from .voc import VOCMultiTaskDataset

__all__ = ['DenseMultiTaskDataset', 'MixedMultiTaskDataset', 'PascalContextDataset',
           'TaskBalancedBatchSampler', 'UnderwaterMultiTaskDataset', 'VOCMultiTaskDataset']
