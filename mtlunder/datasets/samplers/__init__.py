from .seeded_sampler import SeededSampler
from .task_balanced_batch_sampler import TaskBalancedBatchSampler

__all__ = ['SeededSampler', 'TaskBalancedBatchSampler']
