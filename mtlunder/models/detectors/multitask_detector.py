"""Multi-task detector: backbone -> multi-task neck -> one head per task."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import ConfigDict
from mmengine.model import ModuleDict
from torch import Tensor, nn

from mtlunder.registry import MODELS
from mtlunder.structures import TASK_SPECS
from ..base_multitask_model import BaseMultiTaskModel
from ..data_preprocessors import input_normalization
from ..heads import BaseTaskHead
from ..necks import BaseMultiTaskNeck

Features = Tuple[Tensor, ...]


@MODELS.register_module()
class MultiTaskDetector(BaseMultiTaskModel):
    """Backbone, a neck returning ``dict[task, levels]`` and ``heads={task: head cfg}``.

    Call graph (the protocol and ``train_step`` are :class:`BaseMultiTaskModel`'s)::

        extract_shared(inputs)        -> backbone levels (finest first)
        loss_from_shared(shared, samples, inputs)
         └─ neck_features(shared)     -> {task: levels}
            per task, on the samples labelled for it (metainfo ``tasks``):
             ├─ boxes task (mmdet dense head): head.loss(levels, samples)
             └─ dense task (BaseTaskHead):     head.loss(levels, inputs, samples)
        predict(inputs, samples)      -> every head on every sample; boxes go to
                                         ``pred_instances``, dense heads write their own
                                         ``pred_field`` (``pred_clean``, ...)

    What a head is follows the task table (:data:`~mtlunder.structures.TASK_SPECS`): a task
    whose label kind is ``'boxes'`` (``det``) takes any mmdet dense head, which receives
    ``train_cfg`` / ``test_cfg`` as in mmdet single-stage detectors; every other task takes
    a :class:`~mtlunder.models.heads.BaseTaskHead` of that task. Heads that read the inputs
    get the data preprocessor's normalisation. A multi-task neck is a
    :class:`~mtlunder.models.necks.BaseMultiTaskNeck` (its ``tasks`` must cover the heads, its
    ``task_parameters`` join the tasks'); any other neck returning a plain tuple (e.g. mmdet
    ``FPN``) feeds the same levels to every head.

    Training: each head sees only the samples labelled for its task (a sample without
    ``tasks`` is labelled for every task). Loss keys are prefixed ``'<task>.'``; a task with
    no labelled sample (or whose head returns no loss, e.g. no reference image) contributes
    no key. A task missing from some ranks' batches leaves its parameters unused there: wrap
    with ``find_unused_parameters=True`` under DDP.

    Args:
        backbone, neck: configs (``neck=None``: the backbone levels go to every head).
        heads: ``{task: head config}``, e.g. ``dict(det=RetinaHead cfg, enh=EnhancementHead
            cfg)``; one or several tasks.
        train_cfg, test_cfg: forwarded to the boxes heads.
        data_preprocessor: e.g. ``MultiTaskDataPreprocessor`` / ``DetDataPreprocessor``.
        init_cfg: mmengine init config.
        balancer: a ``BALANCERS`` config (e.g. ``dict(type='MGDA')``); its tasks default to
            the heads'. With a balancer, :meth:`train_step` is mtlunder's multi-task step;
            without one (EW), mmengine's standard step.
    """

    def __init__(self, backbone: dict, neck: Optional[dict], heads: Dict[str, dict],
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None, balancer: Optional[dict] = None):
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not heads:
            raise ValueError(f'{type(self).__name__} needs at least one head')
        unknown = sorted(set(heads) - set(TASK_SPECS))
        if unknown:
            raise ValueError(f'{type(self).__name__}: heads {unknown} are not tasks of '
                             f'TASK_SPECS {list(TASK_SPECS)}')
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        if isinstance(self.neck, BaseMultiTaskNeck) and set(heads) - set(self.neck.tasks):
            raise ValueError(f'heads {sorted(set(heads) - set(self.neck.tasks))} have no neck '
                             f'output; the neck serves {list(self.neck.tasks)}')
        train_cfg = None if train_cfg is None else ConfigDict(train_cfg)
        test_cfg = None if test_cfg is None else ConfigDict(test_cfg)
        heads = copy.deepcopy(dict(heads))
        for task, cfg in heads.items():
            if not TASK_SPECS[task].is_dense:
                cfg.update(train_cfg=train_cfg, test_cfg=test_cfg)
        self.heads = ModuleDict({task: MODELS.build(cfg) for task, cfg in heads.items()})
        for task, head in self.heads.items():
            self._check_head(task, head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        mean, std, rgb = self._input_norm()
        for head in self.heads.values():
            if isinstance(head, BaseTaskHead):
                head.set_input_norm(mean, std, rgb)
        self.init_balancer(balancer)

    def _check_head(self, task: str, head: nn.Module) -> None:
        """A boxes task needs an mmdet dense head, a dense task a BaseTaskHead of itself."""
        from mmdet.models.dense_heads.base_dense_head import BaseDenseHead

        name = type(self).__name__
        if TASK_SPECS[task].is_dense:
            if not isinstance(head, BaseTaskHead) or head.task != task:
                raise TypeError(f'{name}: the {task!r} head must be a BaseTaskHead of task '
                                f'{task!r}, got {type(head).__name__}')
        elif not isinstance(head, BaseDenseHead):
            raise TypeError(f'{name}: the {task!r} head (boxes) must be an mmdet dense head, '
                            f'got {type(head).__name__}')

    def _input_norm(self) -> Tuple[List[float], List[float], bool]:
        """(mean, std, is_rgb) of the normalised inputs, from the data preprocessor.

        Images are loaded BGR (mmcv); the tensor is RGB when the preprocessor converts.
        """
        normalization, rgb = input_normalization(self.data_preprocessor)
        if normalization is not None:
            mean, std = normalization[0].tolist(), normalization[1].tolist()
        else:
            mean, std = [0.0] * 3, [1.0] * 3
        if len(mean) == 1:
            mean, std = mean * 3, std * 3
        return mean, std, rgb

    @property
    def tasks(self) -> Tuple[str, ...]:
        """Task names of the heads, in config order."""
        return tuple(self.heads.keys())

    # ------------------------------------------------------------------ features
    def extract_shared(self, batch_inputs: Tensor) -> Features:
        """Shared representation: the backbone levels (finest first)."""
        return tuple(self.backbone(batch_inputs))

    def neck_features(self, shared: Sequence[Tensor]) -> Dict[str, Features]:
        """Neck output as ``{task: levels}`` for every head's task."""
        if self.neck is None:
            return {task: tuple(shared) for task in self.tasks}
        out = self.neck(tuple(shared))
        if not isinstance(out, dict):
            return {task: tuple(out) for task in self.tasks}
        missing = set(self.tasks) - set(out)
        if missing:
            raise KeyError(f'neck output lacks tasks {sorted(missing)}')
        return {task: tuple(out[task]) for task in self.tasks}

    def extract_feat(self, batch_inputs: Tensor) -> Dict[str, Features]:
        """Per-task features ``{task: levels}``."""
        return self.neck_features(self.extract_shared(batch_inputs))

    # ------------------------------------------------------------------ training
    def loss_by_task(self, batch_inputs: Tensor,
                     batch_data_samples: Sequence) -> Dict[str, Dict[str, Tensor]]:
        """``{task: {loss name: scalar}}`` of the tasks present in the batch."""
        return self._losses_by_task(self.extract_shared(batch_inputs), batch_data_samples,
                                    batch_inputs)

    def loss_from_shared(self, shared: Sequence[Tensor], batch_data_samples: Sequence,
                         batch_inputs: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Flat task-prefixed losses (``'det.loss_cls'``, ...) from the shared features.

        Args:
            shared: output of :meth:`extract_shared` (or tensors replacing it, e.g. detached
                copies that require grad).
            batch_data_samples: the batch's data samples.
            batch_inputs: the normalised inputs ``[B, 3, H, W]`` the shared features come
                from; needed by heads that read the image (``requires_inputs``, e.g. the
                enhancement head's residual), optional otherwise.
        """
        by_task = self._losses_by_task(shared, batch_data_samples, batch_inputs)
        return {f'{task}.{name}': v for task, losses in by_task.items()
                for name, v in losses.items()}

    def _losses_by_task(self, shared: Sequence[Tensor], batch_data_samples: Sequence,
                        batch_inputs: Optional[Tensor]) -> Dict[str, Dict[str, Tensor]]:
        inputs = batch_inputs
        feats = self.neck_features(shared)
        out = {}
        for task, head in self.heads.items():
            keep = self.labelled_indices(task, batch_data_samples)
            if not keep:
                continue
            task_feats, samples = feats[task], list(batch_data_samples)
            task_inputs = inputs
            if len(keep) < len(batch_data_samples):
                index = torch.as_tensor(keep, device=task_feats[0].device)
                task_feats = tuple(f.index_select(0, index) for f in task_feats)
                samples = [batch_data_samples[i] for i in keep]
                task_inputs = None if inputs is None else inputs.index_select(0, index)
            if isinstance(head, BaseTaskHead):
                if head.requires_inputs:
                    self._check_inputs(task, task_inputs, task_feats)
                losses = head.loss(task_feats, task_inputs, samples)
            else:
                losses = head.loss(task_feats, samples)
            losses = {name: _reduce(v) for name, v in losses.items()}
            if losses:
                out[task] = losses
        return out

    @staticmethod
    def _check_inputs(task: str, inputs: Optional[Tensor], feats: Features) -> None:
        if inputs is None or inputs.shape[0] != feats[0].shape[0]:
            raise RuntimeError(
                f'the {task!r} head reads the image: pass the batch inputs the shared features '
                'come from, loss_from_shared(shared, samples, batch_inputs)')

    # ------------------------------------------------------------------ inference
    def predict(self, batch_inputs: Tensor, batch_data_samples: Sequence,
                rescale: bool = True) -> list:
        """Every head on every sample.

        Boxes heads fill ``pred_instances`` (boxes rescaled to the original image when
        ``rescale``); dense heads fill their ``pred_field`` (e.g. ``pred_clean``, a
        [3, H, W] image) cropped to ``img_shape`` and, when ``rescale``, resized (bilinear,
        antialiased) to ``ori_shape``.
        """
        feats = self.extract_feat(batch_inputs)
        for task, head in self.heads.items():
            if isinstance(head, BaseTaskHead):
                head.predict(feats[task], batch_inputs, batch_data_samples, rescale=rescale)
            else:
                results = head.predict(feats[task], batch_data_samples, rescale=rescale)
                for sample, result in zip(batch_data_samples, results):
                    setattr(sample, TASK_SPECS[task].pred_field, result)
        return list(batch_data_samples)

    def _forward(self, batch_inputs: Tensor, batch_data_samples=None) -> Dict[str, object]:
        """Raw head outputs ``{task: head.forward(...)}``."""
        feats = self.extract_feat(batch_inputs)
        return {
            task: head(feats[task], batch_inputs) if isinstance(head, BaseTaskHead)
            else head(feats[task])
            for task, head in self.heads.items()
        }

    # ------------------------------------------------------------------ parameters
    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """Parameters only ``task``'s loss reaches: its head and the neck's parts for it."""
        if task not in self.heads:
            raise KeyError(f'{type(self).__name__}: task {task!r} is not one of '
                           f'{list(self.tasks)}')
        params = list(self.heads[task].parameters())
        if isinstance(self.neck, BaseMultiTaskNeck):
            params += list(self.neck.task_parameters(task))
        return params

    def shared_parameters(self) -> List[nn.Parameter]:
        """Backbone and the neck parameters not exclusive to one task."""
        exclusive = {id(p) for task in self.tasks for p in self.task_parameters(task)}
        neck = list(self.neck.parameters()) if self.neck is not None else []
        return [p for p in list(self.backbone.parameters()) + neck if id(p) not in exclusive]


def _reduce(value: Union[Tensor, Sequence[Tensor]]) -> Tensor:
    """A head's loss entry as one tensor (per-level lists summed like mmengine parse_losses)."""
    if isinstance(value, Tensor):
        return value
    return sum(v.mean() for v in value)
