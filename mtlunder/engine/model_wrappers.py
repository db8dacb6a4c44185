"""DDP wrapper whose ``train_step`` runs the multi-task step, and the config rule that
selects it."""
from mmengine.logging import print_log
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

    Config: ``model_wrapper_cfg = dict(type='MultiTaskDDP')``;
    :func:`prepare_balancer_cfg` sets it for every distributed run of a model with a
    balancer.
    """

    def train_step(self, data, optim_wrapper):
        return multitask_train_step(self, data, optim_wrapper)


def prepare_balancer_cfg(cfg, distributed: bool) -> None:
    """Make a run of a model with ``model.balancer`` train through the balancer; call it
    before the Runner is built (``tools/train.py`` does).

    * Distributed: mmengine's default wrapper would train the plain sum of the losses and
      ignore the balancer. Without ``model_wrapper_cfg`` (or without its ``type``) the
      wrapper is set to :class:`MultiTaskDDP` (``find_unused_parameters`` from the config,
      True by default as in the shipped configs, because partially labelled batches leave
      heads unused), and one line is logged.
    * Always: the ``BalancerHook`` (epoch ends of DWA and the KPI balancers, weight
      logging) is added to ``custom_hooks`` when absent, also with a log line.

    Raises:
        ValueError: ``model_wrapper_cfg`` names a wrapper that is not a ``MultiTaskDDP``.
    """
    balancer = cfg.model.get('balancer')
    if balancer is None:
        return
    name = balancer.get('type')
    if distributed:
        _select_wrapper(cfg, name)
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(hook.get('type') == 'BalancerHook' for hook in hooks):
        cfg.custom_hooks = hooks + [dict(type='BalancerHook')]
        print_log(f'model.balancer is {name}: added BalancerHook to custom_hooks',
                  logger='current')


def _select_wrapper(cfg, balancer_name: str) -> None:
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    if wrapper.get('type') is None:
        wrapper['type'] = 'MultiTaskDDP'
        wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', True))
        cfg.model_wrapper_cfg = wrapper
        print_log(f'model.balancer is {balancer_name}: distributed training uses '
                  f'model_wrapper_cfg={wrapper} (the multi-task step)', logger='current')
        return
    wrapper_cls = MODEL_WRAPPERS.get(wrapper['type'])
    if wrapper_cls is None or not issubclass(wrapper_cls, MultiTaskDDP):
        raise ValueError(
            f"model.balancer is {balancer_name} but model_wrapper_cfg.type is "
            f"{wrapper['type']!r}, whose train_step ignores the balancer (it trains the plain "
            "sum of the losses); set model_wrapper_cfg = dict(type='MultiTaskDDP', "
            'find_unused_parameters=True) or a subclass of MultiTaskDDP')
