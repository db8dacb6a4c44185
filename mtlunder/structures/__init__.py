from .multitask_data_sample import TASK_NAMES, MultiTaskDataSample

__all__ = ['TASK_NAMES', 'MultiTaskDataSample']
