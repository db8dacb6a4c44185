"""Full-reference enhancement metrics: PSNR and SSIM against the reference image on disk."""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from mtlunder.structures.task_specs import TASK_SPECS, tasks_of_kind
from ..functional import read_rgb

#: The task scored here: the one whose label is a reference image.
(ENH, ) = tasks_of_kind('image')
ENH_SPEC = TASK_SPECS[ENH]


def psnr(pred: torch.Tensor, ref: torch.Tensor, max_val: float = 255.0,
         cap: float = 100.0) -> float:
    """PSNR in dB, ``10 log10(max_val^2 / MSE)`` over all pixels and channels.

    Identical images (MSE 0) score ``cap``. Shapes: any equal shapes.
    """
    mse = float(((pred.double() - ref.double())**2).mean())
    return cap if mse == 0 else min(cap, 10 * math.log10(max_val**2 / mse))


def ssim(pred: torch.Tensor, ref: torch.Tensor, max_val: float = 255.0,
         window_size: int = 11) -> float:
    """Mean SSIM of [3, H, W] images: Gaussian window ``window_size``, sigma 1.5, K1 = 0.01,
    K2 = 0.03 (the definition of :func:`kornia.metrics.ssim`, whose Gaussian window it uses),
    'valid' windows only, averaged over the RGB channels and positions.

    The five local moments of every channel go through one separable 'valid' convolution in
    float32, about 20x faster on CPU than :func:`kornia.metrics.ssim` (a dense 2-D kernel
    per moment); the tests check both agree.
    """
    import torch.nn.functional as F
    from kornia.filters import get_gaussian_kernel1d

    if min(pred.shape[-2:]) < window_size:
        raise ValueError(f'SSIM needs images of at least {window_size}x{window_size} pixels, '
                         f'got {tuple(pred.shape[-2:])}')
    x = pred.float() / max_val
    y = ref.float() / max_val
    moments = torch.cat([x, y, x * x, y * y, x * y])[:, None]  # [5C, 1, H, W]
    kernel = get_gaussian_kernel1d(window_size, 1.5).reshape(-1)
    blurred = F.conv2d(F.conv2d(moments, kernel.view(1, 1, 1, -1)), kernel.view(1, 1, -1, 1))
    mu_x, mu_y, xx, yy, xy = blurred[:, 0].split(x.shape[0])
    c1, c2 = 0.01**2, 0.03**2
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return float(ssim_map.double().mean())


@METRICS.register_module()
class EnhancementMetric(BaseMetric):
    """PSNR and SSIM of ``pred_clean`` against the reference image, and of the input.

    Protocol: each prediction (``pred_clean.data``, [3, H, W] RGB in [0, 1] at the original
    image size, as :class:`MultiTaskDetector` outputs it) is quantised to 8 bits
    (``round(255 x)``, as if saved) and compared with the reference image read from disk
    (``metainfo[ref_key]``, at its original size, RGB uint8, decoded with Pillow so that a
    truncated file raises instead of decoding grey). PSNR uses MAX = 255 over
    all pixels and channels (capped at 100 dB); SSIM uses a Gaussian window 11, sigma 1.5,
    K1 = 0.01, K2 = 0.03, valid windows, mean over the R, G and B channels (not the Y
    channel). Both are computed per image, then averaged over images. ``input_psnr`` /
    ``input_ssim`` score the degraded input (``metainfo['img_path']``) against the same
    reference, so the gain is visible.

    Samples without a reference path, not labelled ``'enh'`` (metainfo ``tasks``) or without
    ``pred_clean`` are skipped; the count is logged.

    Keys: ``enh/psnr``, ``enh/ssim``, ``enh/input_psnr``, ``enh/input_ssim`` (default
    prefix ``'enh'``; no collision with mmdet ``coco/*`` keys).

    Args:
        ref_key: metainfo key of the reference image path.
        window_size: SSIM window.
        backend_args: mmengine file backend arguments for reading images.
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'enh'

    def __init__(self, ref_key: str = 'ref_path', window_size: int = 11,
                 backend_args: Optional[dict] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ref_key = ref_key
        self.window_size = window_size
        self.backend_args = backend_args
        # (input path, reference path) -> (PSNR, SSIM) of the input: fixed across evaluations
        self._input_scores: Dict[tuple, tuple] = {}

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            ref_path = sample.get(self.ref_key)
            tasks = sample.get('tasks')
            if (not ref_path or ENH_SPEC.pred_field not in sample
                    or (tasks is not None and ENH not in tasks)):
                self.results.append(dict(skipped=True))
                continue
            ref = read_rgb(ref_path, self.backend_args, 'EnhancementMetric')
            pred = sample[ENH_SPEC.pred_field]['data'].detach().cpu().double()
            if not torch.isfinite(pred).all():
                raise ValueError(f'{ENH_SPEC.pred_field} of {sample.get("img_path")} '
                                 'contains NaN or inf')
            pred = (pred.clamp(0, 1) * 255).round()
            if pred.shape != ref.shape:
                raise ValueError(f'EnhancementMetric: {ENH_SPEC.pred_field} has shape '
                                 f'{tuple(pred.shape)} but the reference {ref_path} has '
                                 f'{tuple(ref.shape)}')
            input_psnr, input_ssim = self._input_score(sample['img_path'], ref_path, ref)
            self.results.append(
                dict(psnr=psnr(pred, ref), ssim=ssim(pred, ref, window_size=self.window_size),
                     input_psnr=input_psnr, input_ssim=input_ssim))

    def _input_score(self, img_path: str, ref_path: str, ref: torch.Tensor) -> tuple:
        """(PSNR, SSIM) of the degraded input against the reference, computed once."""
        key = (img_path, ref_path)
        if key not in self._input_scores:
            inp = read_rgb(img_path, self.backend_args, 'EnhancementMetric')
            if inp.shape != ref.shape:
                raise ValueError(f'EnhancementMetric: {img_path} has shape {tuple(inp.shape)} '
                                 f'but the reference {ref_path} has {tuple(ref.shape)}')
            self._input_scores[key] = (psnr(inp, ref),
                                       ssim(inp, ref, window_size=self.window_size))
        return self._input_scores[key]

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        scored = [r for r in results if not r.get('skipped')]
        logger.info(f'EnhancementMetric: {len(scored)} images evaluated, '
                    f'{len(results) - len(scored)} samples skipped (no reference, not '
                    f'labelled {ENH} or no {ENH_SPEC.pred_field})')
        keys = ('psnr', 'ssim', 'input_psnr', 'input_ssim')
        if not scored:
            logger.warning('EnhancementMetric: no image with a reference; metrics are NaN')
            return {k: float('nan') for k in keys}
        return {k: float(np.mean([r[k] for r in scored])) for k in keys}
