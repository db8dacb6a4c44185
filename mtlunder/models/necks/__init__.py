from .base_multitask_neck import BaseMultiTaskNeck  # noqa: F401
from .squad_neck import SquadNeck  # noqa: F401
from .etr_neck import ETRNeck  # noqa: F401
from .per_task_fpn_neck import PerTaskFPNNeck  # noqa: F401
from .shared_fpn_neck import SharedFPNNeck  # noqa: F401
from .squad_groups_neck import SquadGroupsNeck  # noqa: F401
