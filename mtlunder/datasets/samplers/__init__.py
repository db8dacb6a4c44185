from .task_balanced_batch_sampler import TaskBalancedBatchSampler

__all__ = ['TaskBalancedBatchSampler']
