from .hooks import *  # noqa: F401,F403
from .model_wrappers import MultiTaskDDP, prepare_balancer_cfg  # noqa: F401
from .multitask_step import (MultiTaskTrainStepMixin, get_balancer,  # noqa: F401
                             multitask_train_step)
from .non_finite import NonFiniteTrainingError  # noqa: F401
from .resume import find_resumable_checkpoint  # noqa: F401
from .task_losses import parse_task_losses  # noqa: F401
