"""Per-draw seeding of the data pipeline: SeededIndex, draw_seed, seeded_rngs, the samplers
that yield seeded indices and the datasets that load under them."""
import pickle
import random

import numpy as np
import torch
from torch.utils.data import Dataset

from mtlunder.datasets import SeededSampler, TaskBalancedBatchSampler
from mtlunder.datasets.seeding import SeededIndex, SeededSampleMixin, draw_seed, seeded_rngs


class _Draws(Dataset):
    """Sample ``i`` is ``(i, python random, numpy, torch)`` draws, like a random pipeline."""

    def __len__(self):
        return 12

    def __getitem__(self, idx):
        return (idx, random.random(), float(np.random.rand()), float(torch.rand(())))

    def get_data_info(self, idx):
        return dict(tasks=('det', ) if idx < 11 else ('enh', ))


class _SeededDraws(SeededSampleMixin, _Draws):
    pass


def test_seeded_index_is_the_index_and_pickles_with_its_seed():
    idx = SeededIndex(5, seed=123)
    assert idx == 5 and [10, 11, 12, 13, 14, 15][idx] == 15
    back = pickle.loads(pickle.dumps(idx))
    assert type(back) is SeededIndex and back == 5 and back.seed == 123


def test_draw_seed_depends_on_every_coordinate():
    base = draw_seed(0, 0, 0, 0)
    assert base == draw_seed(0, 0, 0, 0)
    others = {draw_seed(1, 0, 0, 0), draw_seed(0, 1, 0, 0), draw_seed(0, 0, 1, 0),
              draw_seed(0, 0, 0, 1)}
    assert base not in others and len(others) == 4
    assert all(0 <= s < 2**32 for s in others | {base})


def test_seeded_rngs_fixes_the_draws_and_restores_the_callers_state():
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    expected = random.random(), np.random.rand(), torch.rand(())
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    with seeded_rngs(42):
        first = random.random(), np.random.rand(), torch.rand(())
    with seeded_rngs(42):
        again = random.random(), np.random.rand(), torch.rand(())
    assert first == again
    # the caller's streams continue as if nothing had been drawn
    assert (random.random(), np.random.rand(), torch.rand(())) == expected


def test_mixin_loads_a_seeded_index_from_its_seed_only():
    data = _SeededDraws()
    np.random.seed(0)
    a = data[SeededIndex(3, seed=99)]
    np.random.seed(1)                      # another worker state: same sample
    b = data[SeededIndex(3, seed=99)]
    assert a == b and type(a[0]) is int   # the dataset sees the plain index
    assert data[SeededIndex(3, seed=100)][1:] != a[1:]
    np.random.seed(0)
    plain = data[3]                        # a plain index draws from the process state
    np.random.seed(0)
    assert data[3][2] == plain[2] and data[3][2] != plain[2]


def test_seeded_sampler_keeps_default_order_and_seeds_follow_the_epoch():
    from mmengine.dataset import DefaultSampler

    sampler = SeededSampler(_Draws(), shuffle=True, seed=3)
    reference = DefaultSampler(_Draws(), shuffle=True, seed=3)
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        reference.set_epoch(epoch)
        draws = list(sampler)
        assert [int(i) for i in draws] == list(reference)
        assert all(isinstance(i, SeededIndex) for i in draws)
        assert [i.seed for i in draws] == [draw_seed(3, epoch, 0, k)
                                           for k in range(len(draws))]
    sampler.set_epoch(0)
    epoch0 = {int(i): i.seed for i in sampler}
    sampler.set_epoch(1)
    epoch1 = {int(i): i.seed for i in sampler}
    assert all(epoch0[i] != epoch1[i] for i in epoch0)  # a sample is augmented anew


def test_task_balanced_batches_carry_per_draw_seeds():
    from mmengine.dataset import DefaultSampler

    data = _Draws()
    batches = TaskBalancedBatchSampler(DefaultSampler(data, shuffle=True, seed=5), 6)
    first = list(batches)
    seeds = [i.seed for batch in first for i in batch]
    assert seeds == [draw_seed(5, 0, 0, k) for k in range(len(seeds))]
    batches.sampler.set_epoch(1)
    later = [i.seed for batch in batches for i in batch]
    assert not set(seeds) & set(later)
    # repeats of the small group within the epoch get their own draws
    enh = [i for batch in first for i in batch if i == 11]
    assert len({int(i) for i in enh}) < len(enh) and len({i.seed for i in enh}) == len(enh)


def test_underwater_dataset_augments_a_seeded_index_reproducibly(tiny_benchmark):
    from mtlunder.datasets import UnderwaterMultiTaskDataset

    data = UnderwaterMultiTaskDataset(
        data_root=str(tiny_benchmark['root']), ann_file='annotations/train.json',
        metainfo=dict(classes=('holothurian', 'echinus', 'scallop', 'starfish')),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadReferenceImage'),
                  dict(type='PairedRandomFlip', prob=0.5),
                  dict(type='RandomWaterCast', prob=1.0),
                  dict(type='PackMultiTaskInputs')])
    seeds = [draw_seed(0, 0, 0, k) for k in range(16)]
    first = [data[SeededIndex(0, s)]['inputs'] for s in seeds]
    np.random.seed(123)
    again = [data[SeededIndex(0, s)]['inputs'] for s in seeds]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    flips = {data[SeededIndex(0, s)]['data_samples'].metainfo['flip'] for s in seeds}
    assert flips == {True, False}   # the seeds do drive the random transforms


def test_batches_do_not_depend_on_the_number_of_workers(tiny_benchmark):
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader

    from mtlunder.datasets import UnderwaterMultiTaskDataset

    data = UnderwaterMultiTaskDataset(
        data_root=str(tiny_benchmark['root']), ann_file='annotations/train.json',
        metainfo=dict(classes=('holothurian', 'echinus', 'scallop', 'starfish')),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='PairedRandomFlip', prob=0.5),
                  dict(type='RandomWaterCast', prob=0.5), dict(type='PackMultiTaskInputs')])
    sampler = SeededSampler(data, shuffle=True, seed=0)
    sampler.set_epoch(1)
    loaded = {}
    for workers in (0, 2):
        loader = DataLoader(data, batch_size=2, sampler=sampler, num_workers=workers,
                            collate_fn=pseudo_collate)
        loaded[workers] = [x for batch in loader for x in batch['inputs']]
    assert len(loaded[0]) == len(data)
    assert all(torch.equal(a, b) for a, b in zip(loaded[0], loaded[2]))
