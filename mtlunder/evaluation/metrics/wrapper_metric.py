"""Base of the metrics that run other metrics and add keys computed from their results."""
from typing import Dict, Optional, Sequence

from mmengine.evaluator import BaseMetric

from mtlunder.registry import METRICS


class WrapperMetric(BaseMetric):
    """Run several metrics as one and add keys derived from their merged results.

    mmengine's evaluator runs its metrics independently, so a key computed from several
    metrics' results needs the metrics inside one: this class passes ``dataset_meta`` and
    every batch on to the wrapped metrics, evaluates each (each gathers across ranks), merges
    their keys unchanged (two metrics reporting the same key is an error) and adds
    ``<prefix>/<key>`` for every key of ``compute_metrics([merged])``, the template method
    of subclasses (it receives a one-element list holding the merged ``{key: value}``).

    Args:
        metrics: configs of the wrapped metrics.
        collect_device, prefix: as :class:`BaseMetric`.
    """

    def __init__(self, metrics: Sequence[dict], collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not metrics:
            raise ValueError(f'{type(self).__name__} needs the metrics it wraps')
        self.metrics = [METRICS.build(cfg) for cfg in metrics]

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        for metric in self.metrics:
            metric.dataset_meta = dataset_meta

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for metric in self.metrics:
            metric.process(data_batch, data_samples)

    def evaluate(self, size: int) -> Dict[str, float]:
        """The wrapped metrics' keys plus ``<prefix>/<key>`` of :meth:`compute_metrics`."""
        merged: Dict[str, float] = {}
        for metric in self.metrics:
            for key, value in metric.evaluate(size).items():
                if key in merged:
                    raise ValueError(f'{type(self).__name__}: two metrics report {key!r}')
                merged[key] = value
        extra = self.compute_metrics([merged])
        merged.update({f'{self.prefix}/{k}': v for k, v in extra.items()})
        return merged
