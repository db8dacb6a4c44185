from .multitask_data_sample import MultiTaskDataSample
from .task_specs import LABEL_KINDS, TASK_NAMES, TASK_SPECS, TaskSpec, tasks_of_kind

__all__ = ['LABEL_KINDS', 'MultiTaskDataSample', 'TASK_NAMES', 'TASK_SPECS', 'TaskSpec',
           'tasks_of_kind']
