"""Explicit task routing with non-learnable primitives (ETR-NLP, Ding et al., CVPR 2023).

No official code was released and the paper's method section was not available, so this
module is a **reconstruction** from what is certain about the method (METHODS.md, section 2):

Certain:
    * fixed, never-trained primitives extract task-agnostic features;
    * a learnable recombination splits the output channels into a shared branch (fraction
      ``gamma``, the sharing ratio) and one exclusive branch per task;
    * fewer parameters than a dense convolution.
Reconstructed (our choices, all config values):
    * the primitive set: random depthwise 3x3 (``'dw3x3'``), random dilated depthwise 3x3
      (``'dilated_dw3x3'``, dilation 2), a fixed per-channel additive perturbation
      (``'perturb'``, resolution independent, followed by the response activation so that it
      acts as a per-channel threshold, as in perturbative networks), a fixed one-pixel
      spatial shift per channel (``'shift'``), a stride-1 3x3 average pool (``'avgpool'``);
    * a fixed activation (ReLU) on the primitive responses before recombination, as in
      local-binary / perturbative CNNs: without it fixed primitive + 1x1 is a linear map;
    * the recombination is a grouped 1x1 conv with ``groups = gcd(Cin, Cout)``: this is
      ``groups=Cin`` (each input channel's k responses feed only their own outputs) whenever
      ``Cout`` is a multiple of ``Cin``, and still defined when it is not (e.g. the shared
      branch with ``gamma * Cout < Cin``);
    * routing in a stack of blocks: the shared branch reads only the shared channels of its
      input, task t's exclusive branch reads ``cat(shared, exclusive_t)`` of the previous
      block, so one task's exclusive features never reach another task.
"""
import math
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer
from torch import Tensor, nn

#: Directions of the ``'shift'`` primitive as (dy, dx): channel c moves by ``_SHIFTS[c % 4]``.
_SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def _random_kernel(channels: int, generator: torch.Generator) -> Tensor:
    """Random depthwise 3x3 kernel [C, 1, 3, 3], He-normal for fan-in 9."""
    return torch.randn(channels, 1, 3, 3, generator=generator) * math.sqrt(2.0 / 9.0)


def _shift_kernel(channels: int, generator: torch.Generator) -> Tensor:
    """One-hot depthwise kernel [C, 1, 3, 3] moving channel c by ``_SHIFTS[c % 4]`` pixels."""
    kernel = torch.zeros(channels, 1, 3, 3)
    for c in range(channels):
        dy, dx = _SHIFTS[c % len(_SHIFTS)]
        kernel[c, 0, 1 - dy, 1 - dx] = 1.0
    return kernel


def _identity_kernel(channels: int, generator: torch.Generator) -> Tensor:
    """Identity depthwise kernel [C, 1, 3, 3] (the ``'perturb'`` offset is its bias)."""
    return F.pad(torch.ones(channels, 1, 1, 1), (1, 1, 1, 1))


def _mean_kernel(channels: int, generator: torch.Generator) -> Tensor:
    """3x3 mean kernel [C, 1, 3, 3]: stride-1 average pooling, zero padding counted."""
    return torch.full((channels, 1, 3, 3), 1.0 / 9.0)


#: Primitive name -> (fixed depthwise kernel factory, dilation).
_PRIMITIVE_KERNELS = {
    'dw3x3': (_random_kernel, 1),
    'dilated_dw3x3': (_random_kernel, 2),
    'perturb': (_identity_kernel, 1),
    'shift': (_shift_kernel, 1),
    'avgpool': (_mean_kernel, 1),
}


class NLPPrimitives(nn.Module):
    """k fixed channel-preserving primitives, responses interleaved per input channel.

    Every fixed tensor is a buffer drawn from ``torch.Generator().manual_seed(seed)``: it is
    saved in checkpoints, never a parameter, never trained, and identical for equal seeds.

    Args:
        channels: input channels Cin.
        primitives: names from ``PRIMITIVES``; k = len(primitives).
        seed: seed of the random kernels and the perturbation.
        perturb_std: standard deviation of the ``'perturb'`` offsets.
        act_cfg: fixed activation on the responses (None: linear).

    Shape: [B, Cin, H, W] -> [B, k*Cin, H, W]; channel ``c*k + i`` is primitive i of input
    channel c.
    """

    PRIMITIVES = tuple(_PRIMITIVE_KERNELS)

    def __init__(self, channels: int,
                 primitives: Sequence[str] = ('dw3x3', 'dilated_dw3x3', 'perturb', 'shift'),
                 seed: int = 0, perturb_std: float = 0.5,
                 act_cfg: Optional[dict] = dict(type='ReLU')):
        super().__init__()
        unknown = [p for p in primitives if p not in self.PRIMITIVES]
        if unknown or not primitives:
            raise ValueError(f'NLP primitives must be a non-empty subset of {self.PRIMITIVES}, '
                             f'got {tuple(primitives)}')
        self.channels = channels
        self.primitives = tuple(primitives)
        generator = torch.Generator().manual_seed(seed)
        kernels = [_PRIMITIVE_KERNELS[name][0](channels, generator) for name in self.primitives]
        dilations = [_PRIMITIVE_KERNELS[name][1] for name in self.primitives]
        offsets = torch.zeros(len(self.primitives), channels)
        if 'perturb' in self.primitives:
            offsets[self.primitives.index('perturb')] = (
                torch.randn(channels, generator=generator) * perturb_std)
        self.dilations = tuple(dilations)
        self.register_buffer('kernels', torch.stack(kernels))  # [k, C, 1, 3, 3]
        self.register_buffer('offsets', offsets)  # [k, C]
        self.act = build_activation_layer(act_cfg) if act_cfg else nn.Identity()

    @property
    def num_primitives(self) -> int:
        return len(self.primitives)

    def forward(self, x: Tensor) -> Tensor:
        responses = [
            F.conv2d(x, kernel.to(x.dtype), offset.to(x.dtype), padding=dil, dilation=dil,
                     groups=self.channels)
            for kernel, offset, dil in zip(self.kernels, self.offsets, self.dilations)
        ]
        out = torch.stack(responses, dim=2)  # [B, C, k, H, W]: channel-major interleave
        return self.act(out.flatten(1, 2))


class NLPRecombination(nn.Module):
    """Learnable grouped 1x1 recombination of interleaved primitive responses, then norm/act.

    ``groups = gcd(Cin, Cout)`` (= Cin when Cout is a multiple of Cin).
    Shape: [B, k*Cin, H, W] -> [B, Cout, H, W].
    """

    def __init__(self, in_channels: int, out_channels: int, num_primitives: int,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU')):
        super().__init__()
        self.groups = math.gcd(in_channels, out_channels)
        self.conv = ConvModule(num_primitives * in_channels, out_channels, 1, groups=self.groups,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, responses: Tensor) -> Tensor:
        return self.conv(responses)


class NLPLayer(nn.Module):
    """Fixed primitives followed by a learnable grouped recombination.

    Args:
        in_channels: Cin.
        out_channels: Cout.
        primitives, seed, perturb_std: see :class:`NLPPrimitives`.
        norm_cfg, act_cfg: of the recombination.

    Shape: [B, Cin, H, W] -> [B, Cout, H, W]. Learnable parameters:
    ``Cout * k * Cin / gcd(Cin, Cout)`` weights plus the norm.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 primitives: Sequence[str] = ('dw3x3', 'dilated_dw3x3', 'perturb', 'shift'),
                 seed: int = 0, perturb_std: float = 0.5,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU')):
        super().__init__()
        self.primitives = NLPPrimitives(in_channels, primitives, seed, perturb_std)
        self.recombine = NLPRecombination(in_channels, out_channels,
                                          self.primitives.num_primitives, norm_cfg, act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.recombine(self.primitives(x))


class ETRBlock(nn.Module):
    """Explicit task routing block: one shared NLP branch and one exclusive branch per task.

    The shared branch (``int(gamma * Cout)`` channels) is an :class:`NLPLayer` on the shared
    channels of the input; task t's exclusive branch (the other channels) is a learnable
    3x3 conv (``exclusive='conv'``) or its own recombination of the fixed primitive responses
    of its input (``exclusive='nlp'``). Task t reads ``cat(shared, exclusive_t)``.

    Args:
        in_channels: Cin of each task's input.
        out_channels: Cout of each task's output.
        tasks: task names (T = len(tasks)).
        gamma: sharing ratio in [0, 1].
        in_shared_channels: leading input channels that are shared; None: the whole input
            (first block of a stack, input common to all tasks).
        exclusive: ``'conv'`` or ``'nlp'``.
        primitives, seed, perturb_std: of the fixed primitives.
        norm_cfg, act_cfg: of every learnable branch.

    Forward: ``x`` is one tensor [B, Cin, H, W] common to all tasks or a dict task ->
    [B, Cin, H, W]; returns dict task -> [B, Cout, H, W], shared channels first.
    """

    EXCLUSIVE_TYPES = ('conv', 'nlp')

    def __init__(self, in_channels: int, out_channels: int, tasks: Sequence[str],
                 gamma: float = 0.5, in_shared_channels: Optional[int] = None,
                 exclusive: str = 'conv',
                 primitives: Sequence[str] = ('dw3x3', 'dilated_dw3x3', 'perturb', 'shift'),
                 seed: int = 0, perturb_std: float = 0.5,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU')):
        super().__init__()
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f'ETRBlock gamma (sharing ratio) must be in [0, 1], got {gamma}')
        if exclusive not in self.EXCLUSIVE_TYPES:
            raise ValueError(f'ETRBlock exclusive must be one of {self.EXCLUSIVE_TYPES}, '
                             f'got {exclusive!r}')
        if not tasks:
            raise ValueError('ETRBlock needs at least one task')
        self.tasks = tuple(tasks)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.in_shared_channels = in_channels if in_shared_channels is None \
            else in_shared_channels
        self.shared_channels = int(gamma * out_channels)
        self.exclusive_channels = out_channels - self.shared_channels
        self.exclusive = exclusive
        if self.shared_channels and not self.in_shared_channels:
            raise ValueError('ETRBlock with gamma > 0 needs shared input channels, '
                             f'got in_shared_channels={self.in_shared_channels}')
        self.shared = NLPLayer(self.in_shared_channels, self.shared_channels, primitives, seed,
                               perturb_std, norm_cfg, act_cfg) if self.shared_channels else None
        if self.exclusive_channels and exclusive == 'nlp':
            self.task_primitives = NLPPrimitives(in_channels, primitives, seed + 1, perturb_std)
            k = self.task_primitives.num_primitives
            self.task_branches = nn.ModuleDict({
                t: NLPRecombination(in_channels, self.exclusive_channels, k, norm_cfg, act_cfg)
                for t in self.tasks})
        elif self.exclusive_channels:
            self.task_primitives = None
            self.task_branches = nn.ModuleDict({
                t: ConvModule(in_channels, self.exclusive_channels, 3, padding=1,
                              norm_cfg=norm_cfg, act_cfg=act_cfg) for t in self.tasks})
        else:
            self.task_primitives = None
            self.task_branches = None

    def forward(self, x: Union[Tensor, Dict[str, Tensor]]) -> Dict[str, Tensor]:
        common = isinstance(x, Tensor)
        inputs = {t: x for t in self.tasks} if common else x
        missing = [t for t in self.tasks if t not in inputs]
        if missing:
            raise KeyError(f'ETRBlock input has no feature for tasks {missing}')
        first = inputs[self.tasks[0]]
        if first.shape[1] != self.in_channels:
            raise ValueError(f'ETRBlock expects {self.in_channels} input channels, '
                             f'got a tensor of shape {tuple(first.shape)}')
        parts: Dict[str, List[Tensor]] = {t: [] for t in self.tasks}
        if self.shared is not None:
            shared = self.shared(first[:, :self.in_shared_channels])
            for t in self.tasks:
                parts[t].append(shared)
        if self.task_branches is not None:
            responses = None
            for t in self.tasks:
                if self.task_primitives is None:
                    parts[t].append(self.task_branches[t](inputs[t]))
                    continue
                if responses is None or not common:
                    responses = self.task_primitives(inputs[t])
                parts[t].append(self.task_branches[t](responses))
        return {t: torch.cat(p, dim=1) if len(p) > 1 else p[0] for t, p in parts.items()}
