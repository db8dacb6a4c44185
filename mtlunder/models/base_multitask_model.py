"""The protocol every multi-task model of mtlunder follows."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.model import BaseModel
from torch import Tensor, nn

from mtlunder.registry import FUNCTIONS


class BaseMultiTaskModel(BaseModel, metaclass=ABCMeta):
    """Base of the multi-task models: what the multi-task train step and the balancers rely
    on, in one place.

    Call graph::

        train_step(data, optim_wrapper)
         └─ FUNCTIONS 'multitask_train_step' = mtlunder.engine.multitask_train_step
            (found through the registry, which imports the engine: models never import it;
            non-finite steps skipped, reported)
              ├─ no balancer: forward(mode='loss') -> parse_losses (sum) -> update
              ├─ balancer, loss-based / grad_source='params':
              │    forward(mode='loss') -> loss(inputs, samples)
              │         -> loss_from_shared(extract_shared(inputs), samples, inputs)
              └─ balancer, grad_source='repr' (MGDA-UB):
                   shared = extract_shared(inputs)            # z, the shared representation
                   loss_from_shared(shared, samples, inputs)  # per-task grads w.r.t. z
        forward(mode='predict') -> predict(inputs, samples)   # fills each task's pred_field
        forward(mode='tensor')  -> _forward(inputs, samples)  # raw outputs {task: ...}

    The model keeps no batch between calls: what a head needs (the inputs of image heads)
    is passed to :meth:`loss_from_shared`.

    Subclasses implement :attr:`tasks`, :meth:`extract_shared`, :meth:`loss_from_shared`,
    :meth:`predict`, :meth:`_forward`, :meth:`task_parameters` and
    :meth:`shared_parameters`. Loss keys are ``'<task>.<name>'``; a task without a labelled
    sample in the batch contributes no key. A balancer (:meth:`init_balancer`) is a
    submodule, so its state is checkpointed; under DDP the ``MultiTaskDDP`` wrapper runs the
    same step (``tools/train.py`` selects it).
    """

    def __init__(self, data_preprocessor=None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.balancer = None

    def init_balancer(self, balancer: Optional[dict]) -> None:
        """Build ``balancer`` (a ``BALANCERS`` config; its tasks default to :attr:`tasks`)."""
        if balancer is not None:
            from mtlunder.balancers import build_balancer

            self.balancer = build_balancer(balancer, self.tasks)

    # ------------------------------------------------------------------ protocol
    @property
    @abstractmethod
    def tasks(self) -> Tuple[str, ...]:
        """Task names of the model, in loss order."""

    @abstractmethod
    def extract_shared(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        """The shared representation of normalised inputs [B, 3, H, W]."""

    @abstractmethod
    def loss_from_shared(self, shared: Sequence[Tensor], batch_data_samples: Sequence,
                         batch_inputs: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Flat task-prefixed losses from the shared representation.

        Args:
            shared: :meth:`extract_shared` of ``batch_inputs`` (or tensors replacing it).
            batch_data_samples: the batch's data samples.
            batch_inputs: the normalised inputs ``[B, 3, H, W]`` ``shared`` comes from
                (the training step always passes them; heads that read the image need them).
        """

    @abstractmethod
    def predict(self, batch_inputs: Tensor, batch_data_samples: Sequence,
                rescale: bool = True) -> list:
        """The samples with every task's prediction field filled."""

    @abstractmethod
    def _forward(self, batch_inputs: Tensor, batch_data_samples=None) -> Dict[str, object]:
        """Raw outputs ``{task: ...}``."""

    @abstractmethod
    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """Parameters only ``task``'s loss reaches."""

    @abstractmethod
    def shared_parameters(self) -> List[nn.Parameter]:
        """Parameters every task's loss reaches (what gradient balancers combine)."""

    # ------------------------------------------------------------------ shared logic
    @staticmethod
    def labelled_indices(task: str, batch_data_samples: Sequence) -> List[int]:
        """Indices of the samples labelled for ``task`` (all tasks without ``tasks`` meta)."""
        return [
            i for i, s in enumerate(batch_data_samples)
            if 'tasks' not in s.metainfo or task in s.metainfo['tasks']
        ]

    def loss(self, batch_inputs: Tensor, batch_data_samples: Sequence) -> Dict[str, Tensor]:
        """Flat task-prefixed losses; equals ``loss_from_shared(extract_shared(x), ...)``."""
        return self.loss_from_shared(self.extract_shared(batch_inputs), batch_data_samples,
                                     batch_inputs)

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor'):
        """mmengine entry point: ``mode`` is ``'loss'``, ``'predict'`` or ``'tensor'``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}": use "loss", "predict" or "tensor"')

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        """mtlunder's step: mmengine's plain one, or the balancer's multi-task step when a
        balancer is set; both skip a step whose loss or gradient norm is NaN/inf.

        The step is the engine's ``multitask_train_step``, looked up in
        :data:`mtlunder.registry.FUNCTIONS` (whose location is ``mtlunder.engine``)."""
        return FUNCTIONS.get('multitask_train_step')(self, data, optim_wrapper)

    def parse_losses(self, losses: Dict[str, Tensor]):
        """mmengine's sum of the losses; with a balancer only a wrapper that bypasses
        :meth:`train_step` (mmengine's ``MMDistributedDataParallel``) gets here, so that is
        refused rather than silently training the plain sum."""
        if self.balancer is not None:
            raise RuntimeError(
                f'{type(self).__name__} has the balancer {type(self.balancer).__name__}, but '
                'a model wrapper summed its losses without the multi-task step; wrap it with '
                "model_wrapper_cfg = dict(type='MultiTaskDDP', find_unused_parameters=True) "
                '(tools/train.py does this when model_wrapper_cfg is unset)')
        return super().parse_losses(losses)
