"""DDP wrapper whose ``train_step`` runs the multi-task step."""
from mmengine.model import MMDistributedDataParallel

from mtlunder.registry import MODEL_WRAPPERS
from .multitask_step import multitask_train_step


@MODEL_WRAPPERS.register_module()
class MultiTaskDDP(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` never calls the module's ``train_step``; this wrapper
    runs :func:`~mtlunder.engine.multitask_train_step` instead (same weights on every rank,
    explicit gradient exchange for gradient balancers, DDP's own reduction for loss-based
    ones). Use ``device_ids=None`` on CPU (gloo); set ``find_unused_parameters=True`` when a
    batch can lack a task (partially labelled data).

    Config: ``model_wrapper_cfg = dict(type='MultiTaskDDP')``.
    """

    def train_step(self, data, optim_wrapper):
        return multitask_train_step(self, data, optim_wrapper)
