from .metric_directions import METRIC_DIRECTIONS, lower_is_better  # noqa: F401
from .metrics import *  # noqa: F401,F403
from .multitask_delta import compare_run, delta_m, format_comparison  # noqa: F401
from .single_task_results import (load_single_task_results, read_run,  # noqa: F401
                                  record_single_task)
