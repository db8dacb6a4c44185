"""The one table of which validation metrics are better when higher and which when lower.

Keys are metric names as mtlunder's metrics report them after their prefix (``'mIoU'`` of
``'seg/mIoU'`` or ``'parts/mIoU'``, ``'rmse'`` of ``'depth/rmse'``), so a metric keeps its
direction under any ``prefix``. Code that needs a direction (the multi-task delta, KPI
potentials) asks :func:`lower_is_better`; a name missing here is an error, never a guess.
"""
from typing import Dict

#: metric name -> ``'higher'`` or ``'lower'`` (the better direction)
METRIC_DIRECTIONS: Dict[str, str] = {
    # TaskCocoMetric / mmdet CocoMetric (coco/*): box AP in [0, 1]
    'bbox_mAP': 'higher', 'bbox_mAP_50': 'higher', 'bbox_mAP_75': 'higher',
    'bbox_mAP_s': 'higher', 'bbox_mAP_m': 'higher', 'bbox_mAP_l': 'higher',
    # EnhancementMetric / UnderwaterQualityMetric (enh/*): PSNR in dB, SSIM in [0, 1]
    'psnr': 'higher', 'ssim': 'higher', 'uiqm': 'higher', 'uciqe': 'higher',
    # SegMetric (seg/*, parts/*, sal/*): fractions
    'mIoU': 'higher', 'aAcc': 'higher',
    # saliency (sal/*): best F-measure over thresholds
    'maxF': 'higher',
    # DepthMetric (depth/*): rmse in metres, abs_rel, delta_k fractions
    'rmse': 'lower', 'abs_rel': 'lower',
    'delta1': 'higher', 'delta2': 'higher', 'delta3': 'higher',
    # NormalMetric (normal/*): angles in degrees (rmse above), fractions within an angle
    'mean': 'lower', 'median': 'lower',
    '11.25': 'higher', '22.5': 'higher', '30': 'higher',
    # EdgeMetric (edge/*): F-measures
    'odsF': 'higher', 'oisF': 'higher',
}


def metric_name(key: str) -> str:
    """``'depth/rmse'`` -> ``'rmse'``: the name after the metric's prefix."""
    return key.rsplit('/', 1)[-1]


def lower_is_better(key: str) -> bool:
    """Whether a lower value of metric ``key`` (e.g. ``'depth/rmse'``) is better.

    Raises:
        KeyError: naming ``key`` when its name is not in :data:`METRIC_DIRECTIONS`.
    """
    direction = METRIC_DIRECTIONS.get(metric_name(key))
    if direction is None:
        raise KeyError(f'no direction (higher or lower is better) is known for metric '
                       f'{key!r}; known metric names: {sorted(METRIC_DIRECTIONS)} '
                       '(mtlunder/evaluation/metric_directions.py)')
    return direction == 'lower'
