"""A tiny two-task model implementing the multi-task model protocol, for balancer and
train-step tests: shared ``Linear(4, 6) + tanh`` encoder, per-task ``Linear(6, 1)`` heads.

Batches: ``dict(inputs=[B, 4], data_samples=dict(y=[B, 2], tasks=[...], nan=[...],
labelled=[B, 2]))``; ``tasks`` lists the tasks labelled in this batch (default all), ``nan``
the tasks whose loss is made NaN, ``labelled`` (optional bool) which samples are labelled for
each task: a task's loss is the mean over its labelled samples, absent when there are none.
"""
import torch
from mmengine.model import BaseModel
from torch import nn

from mtlunder.balancers import build_balancer
from mtlunder.engine import MultiTaskTrainStepMixin

TASKS = ('a', 'b')


class ToyMultiTask(MultiTaskTrainStepMixin, BaseModel):
    """``a``: MSE to ``y[:, 0]``; ``b``: MSE to ``y[:, 1]``; a ``neck`` Linear after ``z``
    is shared too (exercises shared parameters after the representation)."""

    def __init__(self, balancer=None, seed: int = 0, dtype=torch.float64, hidden: int = 6):
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = nn.Linear(4, hidden)
        self.neck = nn.Linear(hidden, hidden)
        self.heads = nn.ModuleDict({t: nn.Linear(hidden, 1) for t in TASKS})
        self.to(dtype)
        self.balancer = build_balancer(balancer, TASKS)

    @property
    def tasks(self):
        return TASKS

    def extract_shared(self, inputs):
        return (torch.tanh(self.encoder(inputs)),)

    def loss_from_shared(self, shared, data_samples, batch_inputs=None):
        feat = torch.tanh(self.neck(shared[0]))
        tasks = data_samples.get('tasks', TASKS)
        out = {}
        for k, task in enumerate(TASKS):
            keep = data_samples.get('labelled')
            keep = keep[:, k] if keep is not None else torch.ones_like(data_samples['y'][:, k],
                                                                       dtype=torch.bool)
            if task not in tasks or not bool(keep.any()):
                continue
            pred = self.heads[task](feat).squeeze(-1)
            loss = ((pred - data_samples['y'][:, k]) ** 2)[keep].mean()
            if task in data_samples.get('nan', ()):
                loss = loss * float('nan')
            out[f'{task}.loss_mse'] = loss
        return out

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss_from_shared(self.extract_shared(inputs), data_samples)
        return self.extract_shared(inputs)[0]

    def shared_parameters(self):
        return list(self.encoder.parameters()) + list(self.neck.parameters())

    def task_parameters(self, task):
        return list(self.heads[task].parameters())


def make_batch(seed: int, size: int = 8, dtype=torch.float64, **extra):
    """A batch whose two targets conflict (``b`` is roughly ``-a``)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(size, 4, generator=g, dtype=dtype)
    a = x @ torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=dtype)
    b = -0.8 * a + torch.randn(size, generator=g, dtype=dtype)
    return dict(inputs=x, data_samples=dict(y=torch.stack([a, b], 1), **extra))


def split_batch(batch, parts: int):
    """Split a batch along the sample axis into ``parts`` equal batches."""
    xs = batch['inputs'].chunk(parts)
    ys = batch['data_samples']['y'].chunk(parts)
    rest = {k: v for k, v in batch['data_samples'].items() if k not in ('y', 'labelled')}
    labelled = batch['data_samples'].get('labelled')
    masks = labelled.chunk(parts) if labelled is not None else [None] * parts
    return [dict(inputs=x, data_samples=dict(y=y, **rest, **({} if m is None else
                                                             dict(labelled=m))))
            for x, y, m in zip(xs, ys, masks)]


#: processes of the 2-process gloo tests; training steps of :func:`global_batches`
WORLD = 2
STEPS = 3


def free_port() -> int:
    """A free TCP port on localhost for a gloo rendezvous."""
    import socket

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def global_batches(partial: bool = False):
    """:data:`STEPS` global batches of 8; ``partial``: task ``b`` labelled only in the first
    half of each (rank 0's part of a 2-process split)."""
    batches = [make_batch(100 + k, size=8) for k in range(STEPS)]
    if partial:
        for b in batches:
            b['data_samples']['labelled'] = torch.tensor([[True, i < 4] for i in range(8)])
    return batches


def train_steps(model, batches, wrapper_model=None):
    """One SGD (lr 0.1) ``train_step`` per batch through ``wrapper_model`` (a DDP wrapper) or
    ``model``; returns a copy of the model's ``state_dict``."""
    from mmengine.optim import OptimWrapper

    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    for batch in batches:
        (wrapper_model or model).train_step(batch, wrapper)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
