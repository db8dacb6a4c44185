"""mmengine's DefaultSampler whose indices carry the seed of each draw."""
from typing import Iterator

from mmengine.dataset import DefaultSampler

from mtlunder.registry import DATA_SAMPLERS

from ..seeding import SeededIndex, draw_seed


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """:class:`~mmengine.dataset.DefaultSampler` (same order, same arguments) yielding
    :class:`~mtlunder.datasets.seeding.SeededIndex`: draw ``k`` of rank ``r`` in epoch
    ``e`` carries ``draw_seed(seed, e, r, k)``, so an mtlunder dataset augments it from
    that seed, whichever worker loads it (see :mod:`mtlunder.datasets.seeding`). The epoch
    is the one ``DistSamplerSeedHook`` sets, which mmengine restores on resume, so a resumed
    epoch draws what the uninterrupted run drew. Batch samplers that keep the sampler's
    indices (mmdet's ``AspectRatioBatchSampler``, torch's ``BatchSampler``) pass the seeds
    on.
    """

    def __iter__(self) -> Iterator[SeededIndex]:
        for draw, idx in enumerate(super().__iter__()):
            yield SeededIndex(idx, draw_seed(self.seed, self.epoch, self.rank, draw))
