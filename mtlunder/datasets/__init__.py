from .dense import DenseMultiTaskDataset
from .samplers import TaskBalancedBatchSampler
from .transforms import *  # noqa: F401,F403
from .underwater import UnderwaterMultiTaskDataset

__all__ = ['DenseMultiTaskDataset', 'TaskBalancedBatchSampler', 'UnderwaterMultiTaskDataset']
