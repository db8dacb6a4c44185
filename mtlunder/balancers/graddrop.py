"""GradDrop (Chen et al., NeurIPS 2020): gradient sign dropout."""
from typing import Dict, Sequence, Tuple, Union

import torch
from torch import Tensor

from mtlunder.registry import BALANCERS
from .base import GradBalancer, seeded_generator


@BALANCERS.register_module()
class GradDrop(GradBalancer):
    """Gradient Sign Dropout (Chen, Ngiam, Huang, Luong, Kretzschmar, Chai & Anguelov, "Just
    Pick a Sign: Optimizing Deep Multitask Models with Gradient Sign Dropout", NeurIPS 2020).

    Per element ``k`` of the shared gradient, the positive sign purity
    ``P_k = 0.5 (1 + sum_i g_ik / sum_i |g_ik|)`` (0.5 where every ``g_ik`` is zero) and one
    uniform draw ``U_k``: task ``i`` keeps ``g_ik`` if it is positive and ``P_k > U_k`` or
    negative and ``P_k < U_k`` (mask ``M_ik``). Update
    ``sum_i (l_i + (1 - l_i) M_i) * g_i`` with leak ``l_i`` (0: the paper's plain GradDrop),
    so every element follows one sampled sign, positive with probability ``P_k``.

    Needs the full gradients (``grad_source='params'``); as TorchJD 0.18's ``GradDrop``
    aggregator, it acts on the per-task gradients of the shared parameters (the paper and
    LibMTL apply it to the gradients of a shared activation, with signs of the
    batch-summed ``gradient * sign(input)``). ``U`` comes from a generator seeded by
    ``(seed, step)``, drawn as ``torch.rand(P)`` in the gradients' dtype on the CPU: the same
    on every rank and after a resume, and TorchJD's draws for the same generator state.
    The update is not a combination ``sum_i c_i g_i``; the reported weight of task ``i`` is
    the share of its squared norm kept, ``(kept_i . g_i) / ||g_i||^2`` in ``[l_i, 1]``
    (1 for a zero gradient).

    Args:
        tasks: every task name.
        grad_source: ``'params'`` only.
        leak: ``l`` in ``[0, 1]``, one for all tasks or ``{task: l}`` (missing tasks: 0).
        seed: seed of the per-step generator of ``U``.
    """

    grad_based = True
    sources = ('params',)

    def __init__(self, tasks: Sequence[str], grad_source: str = 'params',
                 leak: Union[float, Dict[str, float]] = 0.0, seed: int = 0):
        super().__init__(tasks, grad_source)
        leaks = leak if isinstance(leak, dict) else {t: leak for t in self.tasks}
        for task, value in leaks.items():
            self.task_index(task)
            if not 0 <= value <= 1:
                raise ValueError(f'GradDrop leak must be in [0, 1], got {value} for {task!r}')
        self.leak = [float(leaks.get(t, 0.0)) for t in self.tasks]
        self.seed = int(seed)
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    def uniform(self, size: int, dtype: torch.dtype) -> Tensor:
        """``U [size]`` of this step (CPU, ``dtype``); no side effects."""
        return torch.rand(size, generator=seeded_generator(self.seed, int(self.step)),
                          dtype=dtype)

    def aggregate(self, grads: Tensor, losses: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        """The update and the kept shares; no side effects.

        Args:
            grads: ``[n, P]`` gradients of the present tasks (rows in the order of
                ``losses``).
            losses: the present tasks' loss values (only their names are used).

        Returns:
            ``(update [P], kept [n])``.
        """
        magnitude = grads.abs().sum(0)
        ratio = torch.where(magnitude > 0, grads.sum(0) / magnitude,
                            torch.zeros_like(magnitude))
        purity = 0.5 * (1 + ratio)
        draw = self.uniform(grads.shape[1], grads.dtype).to(grads.device)
        keep_pos, keep_neg = purity > draw, purity < draw
        update = torch.zeros_like(grads[0])
        kept = []
        for task, row in zip(losses, grads):
            leak = self.leak[self.task_index(task)]
            mask = (keep_pos & (row > 0)) | (keep_neg & (row < 0))
            part = row * (leak + (1 - leak) * mask.to(row.dtype))
            update.add_(part)
            norm_sq = (row * row).sum().double()
            kept.append((part * row).sum().double() / norm_sq if norm_sq > 0
                        else norm_sq.new_ones(()))
        return update, torch.stack(kept).cpu()

    def update(self, losses, gram=None, grads=None):
        """Advance ``step`` (the next call draws a new ``U``)."""
        self.step += 1

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}, leak={self.leak}, seed={self.seed}'
