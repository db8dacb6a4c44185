"""STCH (Lin et al., ICML 2024, "Smooth Tchebycheff scalarization for multi-objective
optimization"): a smooth maximum of the preference-weighted, ideal-shifted task losses."""
from typing import Optional, Sequence

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import LOG_EPS, LossBalancer


def task_vector(values: Optional[Sequence[float]], tasks: Sequence[str], default: float,
                owner: str, name: str) -> Tensor:
    """``[T]`` float64 tensor of a per-task argument given over all ``tasks`` (``None``: all
    ``default``)."""
    if values is None:
        return torch.full((len(tasks), ), float(default), dtype=torch.float64)
    out = torch.as_tensor(values, dtype=torch.float64).reshape(-1).clone()
    if len(out) != len(tasks):
        raise ValueError(f'{owner}: {name} has {len(out)} entries for {len(tasks)} tasks '
                         f'{list(tasks)}')
    return out


@BALANCERS.register_module()
class STCH(LossBalancer):
    """Smooth Tchebycheff scalarization of the present tasks' losses::

        f_i = L_i / n_i                      (log_losses=False)
        f_i = log(max(L_i, eps) / n_i)       (log_losses=True)
        total = mu * log sum_i exp(p_i (f_i - z_i) / mu)

    ``p`` (preference), ``z`` (ideal point) and ``n`` (nadir scale) are ``[T]`` buffers
    indexed by task; absent tasks leave the sum. ``total -> max_i p_i (f_i - z_i)`` as
    ``mu -> 0`` (Tchebycheff) and ``-> sum_i p_i (f_i - z_i) / n + mu log n`` as
    ``mu -> inf``. Reported weights are ``d total / d L_i = p_i s_i f_i'(L_i)`` with
    ``s = softmax(p (f - z) / mu)``.

    Warm-up (LibMTL's normalisation, ``warmup_epochs > 0``): during the first
    ``warmup_epochs`` epochs the total is the linear ``sum_i p_i f_i`` with ``n = 1`` (with
    ``log_losses`` the sum of log-losses); the mean loss of each task over the last warm-up
    epoch (buffers ``loss_sum``, ``loss_count``) becomes ``n`` at its end (a task never seen
    in it keeps ``n_i = 1``). Epochs are counted by :meth:`epoch_end` (buffer ``epoch``).

    Args:
        tasks: every task name.
        mu: smoothing ``> 0``.
        pref: ``[T]`` preference over all tasks (default all 1).
        ideal: ``[T]`` ideal point ``z`` over all tasks (default 0).
        log_losses: scalarize ``log L_i`` instead of ``L_i``.
        warmup_epochs: epochs of linear scalarization whose last one sets ``n``.
    """

    def __init__(self, tasks: Sequence[str], mu: float = 1.0,
                 pref: Optional[Sequence[float]] = None,
                 ideal: Optional[Sequence[float]] = None, log_losses: bool = False,
                 warmup_epochs: int = 0):
        super().__init__(tasks)
        if mu <= 0:
            raise ValueError(f'STCH mu must be > 0, got {mu}')
        if warmup_epochs < 0:
            raise ValueError(f'STCH warmup_epochs must be >= 0, got {warmup_epochs}')
        self.mu = float(mu)
        self.log_losses = bool(log_losses)
        self.warmup_epochs = int(warmup_epochs)
        n = self.num_tasks
        self.register_buffer('pref', task_vector(pref, self.tasks, 1.0, 'STCH', 'pref'))
        self.register_buffer('ideal', task_vector(ideal, self.tasks, 0.0, 'STCH', 'ideal'))
        self.register_buffer('nadir', torch.ones(n, dtype=torch.float64))
        self.register_buffer('loss_sum', torch.zeros(n, dtype=torch.float64))
        self.register_buffer('loss_count', torch.zeros(n, dtype=torch.long))
        self.register_buffer('epoch', torch.zeros((), dtype=torch.long))

    @property
    def warming_up(self) -> bool:
        return int(self.epoch) < self.warmup_epochs

    def objectives(self, values: Tensor, idx: Tensor) -> Tensor:
        """``f [n]`` of the loss values ``[n]`` of the tasks ``idx``."""
        scaled = values / self.nadir[idx].to(values)
        return self._safe_log(scaled) if self.log_losses else scaled

    def weighted_loss(self, losses):
        values = self._stack(losses)
        idx = self.indices(list(losses))
        pref = self.pref[idx].to(values)
        f = self.objectives(values, idx)
        nadir = self.nadir[idx].to(values)
        if self.log_losses:      # f_i' = 1/L_i, 0 below the log floor (as in _safe_log)
            live = values.detach() / nadir >= LOG_EPS
            slope = live.to(values) / values.detach().clamp_min(LOG_EPS * nadir)
        else:
            slope = 1.0 / nadir
        if self.warming_up:
            return (pref * f).sum(), pref * slope
        scores = pref * (f - self.ideal[idx].to(values)) / self.mu
        total = self.mu * torch.logsumexp(scores, 0)
        return total, pref * torch.softmax(scores.detach(), 0) * slope

    def update(self, losses):
        """In the last warm-up epoch, add the loss values to ``loss_sum`` / ``loss_count``."""
        if int(self.epoch) == self.warmup_epochs - 1:
            idx = self.indices(list(losses))
            self.loss_sum[idx] += self._stack(losses).detach().double().cpu().to(
                self.loss_sum.device)
            self.loss_count[idx] += 1

    def epoch_end(self):
        """Count the epoch; at the end of the warm-up set ``nadir`` to the mean losses."""
        self.epoch += 1
        if int(self.epoch) == self.warmup_epochs:
            seen = self.loss_count > 0
            self.nadir[seen] = self.loss_sum[seen] / self.loss_count[seen]

    def extra_repr(self) -> str:
        return (f'tasks={self.tasks}, mu={self.mu}, log_losses={self.log_losses}, '
                f'warmup_epochs={self.warmup_epochs}')
