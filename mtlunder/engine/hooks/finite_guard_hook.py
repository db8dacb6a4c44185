"""The training policy for NaN/inf losses, gradient norms and weights."""
import logging
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mtlunder.registry import HOOKS
from ..non_finite import (LAST_SKIP_REASON, SKIPPED_STEPS, NonFiniteTrainingError,
                          describe_losses, non_finite_losses, non_finite_tensors)

ACTIONS = ('stop', 'skip')


@HOOKS.register_module()
class FiniteGuardHook(Hook):
    """Stop training on non-finite values before they reach a checkpoint.

    mtlunder's training steps never apply a step whose loss (any key) or gradient norm is
    NaN/inf: they skip it and report it (:mod:`mtlunder.engine.non_finite`). This hook
    decides what happens next, after every iteration:

    * ``action='stop'`` (default): raise :class:`NonFiniteTrainingError` at the first skipped
      step, naming the iteration, the task and loss key (or the gradient norm) and the last
      checkpoint, which is kept (the hook runs before ``CheckpointHook``, so nothing later is
      saved and ``max_keep_ckpts`` rotates nothing out).
    * ``action='skip'``: log the skip and go on; raise once ``max_consecutive_skips`` steps in
      a row were skipped.

    In both modes it raises when the parameters or buffers of the model hold a NaN/inf (one
    fused norm per iteration), and when the model's ``train_step`` applied a step with a
    non-finite loss (a model outside mtlunder's steps; skipping needs mtlunder's step). As a
    last guard, :meth:`before_save_checkpoint` refuses to write a checkpoint whose state dict
    holds a NaN/inf.

    Args:
        action: ``'stop'`` or ``'skip'``.
        max_consecutive_skips: with ``'skip'``, the number of consecutive skipped steps that
            stops training (>= 1).
    """

    priority = 'ABOVE_NORMAL'  # before CheckpointHook (VERY_LOW) and LoggerHook

    def __init__(self, action: str = 'stop', max_consecutive_skips: int = 10):
        if action not in ACTIONS:
            raise ValueError(f'FiniteGuardHook: action must be one of {ACTIONS}, got {action!r}')
        if int(max_consecutive_skips) < 1:
            raise ValueError('FiniteGuardHook: max_consecutive_skips must be >= 1, got '
                             f'{max_consecutive_skips}')
        self.action = action
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.seen_skips = 0
        self.consecutive = 0

    def before_train(self, runner) -> None:
        self.seen_skips = int(runner.message_hub.get_info(SKIPPED_STEPS, 0))
        self.consecutive = 0

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        count = int(runner.message_hub.get_info(SKIPPED_STEPS, 0))
        if count > self.seen_skips:
            self.seen_skips = count
            self.consecutive += 1
            reason = runner.message_hub.get_info(LAST_SKIP_REASON, 'non-finite value')
            if self.action == 'stop':
                self._stop(runner, f'{reason} (the step was skipped)')
            if self.consecutive >= self.max_consecutive_skips:
                self._stop(runner, f'{self.consecutive} consecutive steps skipped, the last '
                           f'for {reason}')
            print_log(f'FiniteGuardHook: iteration {runner.iter + 1} skipped ({reason}); '
                      f'{self.consecutive} in a row, stopping at {self.max_consecutive_skips}',
                      logger='current', level=logging.WARNING)
        else:
            self.consecutive = 0
            bad = non_finite_losses(outputs or {})
            if bad:
                self._stop(runner, f'{describe_losses(bad)}; {type(runner.model).__name__}.'
                           'train_step applied the step (mtlunder models skip it; under DDP '
                           "through model_wrapper_cfg=dict(type='MultiTaskDDP'))")
        model = runner.model
        weights = non_finite_tensors(list(model.named_parameters()) +
                                     list(model.named_buffers()))
        if weights:
            self._stop(runner, f'{len(weights)} parameters/buffers of the model are '
                       f"non-finite (first: {', '.join(weights[:3])})")

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        bad = non_finite_tensors(checkpoint.get('state_dict', {}).items())
        if bad:
            raise NonFiniteTrainingError(
                f"FiniteGuardHook: refused to save a checkpoint whose state_dict holds "
                f"non-finite tensors ({len(bad)}, first: {', '.join(bad[:3])})")

    def _stop(self, runner, what: str) -> None:
        last = runner.message_hub.get_info('last_ckpt')
        kept = (f'the last checkpoint, {last}, is kept' if last else
                'no checkpoint had been saved')
        message = (f'FiniteGuardHook stopped training at iteration {runner.iter + 1}: {what}. '
                   f'Nothing from this iteration on is saved; {kept}. Lower the learning '
                   'rate or clip gradients (optim_wrapper.clip_grad), or let isolated steps '
                   "be skipped with default_hooks.finite_guard.action='skip'.")
        print_log(message, logger='current', level=logging.ERROR)
        raise NonFiniteTrainingError(message)
