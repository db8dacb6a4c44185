"""TaskBalancedBatchSampler: every batch has every task group, on every rank."""
import json
import os

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.dataset import DefaultSampler

from mtlunder.datasets import TaskBalancedBatchSampler


class _Tasks(torch.utils.data.Dataset):
    """A dataset whose samples only carry ``tasks``."""

    def __init__(self, tasks):
        self.tasks = list(tasks)

    def __len__(self):
        return len(self.tasks)

    def get_data_info(self, idx):
        return dict(tasks=self.tasks[idx], img_path=f'{idx}.jpg')


def _sampler(tasks, batch_size, rank=0, world=1, seed=0):
    sampler = DefaultSampler(_Tasks(tasks), shuffle=True, seed=seed)
    sampler.rank, sampler.world_size = rank, world
    return TaskBalancedBatchSampler(sampler, batch_size)


def test_quota_is_one_each_plus_proportional_share():
    batches = _sampler([('det', )] * 90 + [('enh', )] * 10, 8)
    assert batches.quota == {('det', ): 7, ('enh', ): 1}
    batches = _sampler([('det', )] * 50 + [('enh', )] * 50 + [('det', 'enh')] * 20, 5)
    assert batches.quota == {('det', ): 2, ('det', 'enh'): 1, ('enh', ): 2}
    assert sum(batches.quota.values()) == 5


def test_every_batch_has_every_group_and_draws_are_disjoint():
    tasks = [('det', )] * 30 + [('enh', )] * 7
    seen = {}
    for rank in (0, 1):
        batches = list(_sampler(tasks, 4, rank=rank, world=2))
        assert len(batches) == 37 // 8
        for batch in batches:
            assert len(batch) == 4
            assert {tasks[i] for i in batch} == {('det', ), ('enh', )}
        seen[rank] = [i for b in batches for i in b if tasks[i] == ('det', )]
    # the large group is dealt out without repetition across ranks within an epoch
    assert not set(seen[0]) & set(seen[1])
    assert len(set(seen[0])) == len(seen[0])


def test_epochs_reshuffle_and_are_reproducible():
    tasks = [('det', )] * 40 + [('enh', )] * 40
    first = list(_sampler(tasks, 4))
    assert first == list(_sampler(tasks, 4))
    later = _sampler(tasks, 4)
    later.sampler.set_epoch(1)
    assert list(later) != first


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match='batch_size 1 is smaller than the 2 task groups'):
        _sampler([('det', ), ('enh', )], 1)
    with pytest.raises(ValueError, match=r'sample 1 \(1.jpg\) has no task'):
        _sampler([('det', ), ()], 2)
    with pytest.raises(TypeError, match='DefaultSampler'):
        TaskBalancedBatchSampler(torch.utils.data.SequentialSampler(range(3)), 2)


def _rank_batches(rank, port, root, out_dir):
    import torch.distributed as dist

    from mtlunder.datasets import UnderwaterMultiTaskDataset

    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    dataset = UnderwaterMultiTaskDataset(
        data_root=str(root) + '/', ann_file='annotations/train.json', pipeline=[],
        filter_cfg=dict(filter_empty_gt=True, min_size=4))
    sampler = DefaultSampler(dataset, shuffle=True, seed=3)   # rank and world from gloo
    batches = TaskBalancedBatchSampler(sampler, 4)
    present = [sorted({t for i in b for t in dataset.get_data_info(i)['tasks']})
               for b in batches]
    with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(dict(world=dist.get_world_size(), present=present,
                       batches=[list(b) for b in batches]), f)
    dist.destroy_process_group()


def test_two_gloo_ranks_on_the_real_mixture(real_mixed_benchmark, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.spawn(_rank_batches, args=(port, real_mixed_benchmark, str(tmp_path)), nprocs=2)
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text()) for r in (0, 1)]
    assert all(r['world'] == 2 for r in ranks)
    assert len(ranks[0]['batches']) == len(ranks[1]['batches']) > 10
    for r in ranks:
        assert all(p == ['det', 'enh'] for p in r['present'])


def test_min_per_group_keeps_two_of_a_small_group():
    tasks = [('seg', )] * 90 + [('parts', 'seg')] * 10
    assert TaskBalancedBatchSampler(_sampler(tasks, 6).sampler, 6).quota == \
        {('parts', 'seg'): 1, ('seg', ): 5}
    batches = TaskBalancedBatchSampler(_sampler(tasks, 6).sampler, 6, min_per_group=2)
    assert batches.quota == {('parts', 'seg'): 2, ('seg', ): 4}
    for batch in batches:
        assert sum(tasks[i] == ('parts', 'seg') for i in batch) == 2
    with pytest.raises(ValueError, match='times min_per_group 4'):
        TaskBalancedBatchSampler(_sampler(tasks, 6).sampler, 6, min_per_group=4)
