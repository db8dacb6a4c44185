"""One scalar for best-checkpoint selection of the detection + enhancement model."""
from typing import Dict, List, Optional, Sequence

from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from .wrapper_metric import WrapperMetric


@METRICS.register_module()
class CombinedScoreMetric(WrapperMetric):
    """Run several metrics and add ``combined/score`` from their results.

    ``score = det_weight * det + enh_weight * clip((psnr - input_psnr) / psnr_gain_scale, 0, 1)``

    with ``det`` = ``coco/bbox_mAP_50`` (in [0, 1]) and the PSNR gain over the degraded
    input in dB (10 dB gain or more counts as 1). Defaults: weights 0.5 / 0.5, scale 10 dB,
    so the score lies in [0, 1]. The wrapped metrics' own keys are returned unchanged, so
    ``save_best='combined/score'`` (``rule='greater'``) in ``CheckpointHook`` and every
    other key work as usual. A key missing from the results (e.g. ``CocoMetric`` reports
    nothing while the detector finds no box) makes its term 0, with a warning.

    Args:
        metrics: configs of the wrapped metrics (e.g. ``CocoMetric`` and
            ``EnhancementMetric``).
        det_key, psnr_key, input_psnr_key: keys read from their results.
        det_weight, enh_weight, psnr_gain_scale: see the formula.
        collect_device, prefix: as :class:`BaseMetric` (default prefix ``'combined'``).
    """

    default_prefix: Optional[str] = 'combined'

    def __init__(self, metrics: Sequence[dict], det_key: str = 'coco/bbox_mAP_50',
                 psnr_key: str = 'enh/psnr', input_psnr_key: str = 'enh/input_psnr',
                 det_weight: float = 0.5, enh_weight: float = 0.5,
                 psnr_gain_scale: float = 10.0, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(metrics, collect_device=collect_device, prefix=prefix)
        self.det_key, self.psnr_key, self.input_psnr_key = det_key, psnr_key, input_psnr_key
        self.det_weight, self.enh_weight = det_weight, enh_weight
        self.psnr_gain_scale = psnr_gain_scale

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """``results``: one dict with the wrapped metrics' outputs -> ``{'score': float}``.

        A missing key counts as no achievement (its term is 0) and is logged: mmdet's
        ``CocoMetric`` reports nothing at all while the detector finds no box, which is
        common early in training, and best-checkpoint selection must still get a score.
        """
        values = results[0]
        missing = [k for k in (self.det_key, self.psnr_key, self.input_psnr_key)
                   if k not in values]
        if missing:
            MMLogger.get_current_instance().warning(
                f'CombinedScoreMetric: {missing} not among the wrapped metrics\' results '
                f'{sorted(values)}; their term of the score counts as 0')
        det = values.get(self.det_key, 0.0)
        gain = 0.0
        if self.psnr_key in values and self.input_psnr_key in values:
            gain = (values[self.psnr_key] - values[self.input_psnr_key]) / self.psnr_gain_scale
        score = self.det_weight * det + self.enh_weight * min(max(gain, 0.0), 1.0)
        return {'score': float(score)}
