"""No-reference underwater image quality: UIQM (Panetta et al. 2016) and UCIQE (Yang and
Sowmya 2015), and the metric that reports them for images without a reference.

Conventions shared by every function (``docs/metrics.md`` lists them all): an image is a
``[3, H, W]`` RGB tensor with values in [0, 255] (any float or integer dtype; computed in
float64), scored at its own size (never resized: the block statistics of UISM and UIConM,
hence UIQM, depend on the image size). Blocks are fixed ``block_size`` x ``block_size``
(default 8) tiles from the top-left corner; the rows and columns that do not fill a whole
block at the bottom and right borders are left out (at most ``block_size - 1`` of each).
Logarithms are natural.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mtlunder.registry import METRICS
from mtlunder.structures.task_specs import TASK_SPECS, tasks_of_kind
from ..functional import read_rgb

UIQM_WEIGHTS = (0.0282, 0.2953, 3.5753)  # UICM, UISM, UIConM
UISM_WEIGHTS = (0.299, 0.587, 0.114)  # R, G, B (BT.601 luma weights)
UCIQE_WEIGHTS = (0.4680, 0.2745, 0.2576)  # sigma_c, con_l, mu_s
PLIP_GAMMA = PLIP_K = 1026.0  # PLIP constants of Panetta et al. (gamma = k = lambda = 1026)
# Largest CIELab chroma C* = sqrt(a*^2 + b*^2) of an sRGB colour (D65, kornia.color): that
# of pure blue (0, 0, 255); every sRGB colour has C* / LAB_CHROMA_MAX in [0, 1].
LAB_CHROMA_MAX = 133.8042
#: The field scored here: the prediction of the task whose label is a reference image.
(ENH, ) = tasks_of_kind('image')
PRED_FIELD = TASK_SPECS[ENH].pred_field
_NO_PRED = f'no {PRED_FIELD}'


def _rgb(img: torch.Tensor) -> torch.Tensor:
    """[3, H, W] float64 view of an RGB image in [0, 255]; ValueError for another shape."""
    if img.ndim != 3 or img.shape[0] != 3:
        raise ValueError(f'expected a [3, H, W] RGB image, got shape {tuple(img.shape)}')
    return img.double()


def _blocks(x: torch.Tensor, block_size: int) -> torch.Tensor:
    """[..., k2, block_size, k1, block_size] view of ``x`` [..., H, W] (``k2 = H //
    block_size`` rows and ``k1 = W // block_size`` columns of blocks; the remainder at the
    bottom and right is left out)."""
    h, w = x.shape[-2:]
    k2, k1 = h // block_size, w // block_size
    if k1 == 0 or k2 == 0:
        raise ValueError(f'images of at least {block_size}x{block_size} pixels are needed '
                         f'for {block_size}x{block_size} blocks, got {h}x{w}')
    x = x[..., :k2 * block_size, :k1 * block_size]
    return x.reshape(*x.shape[:-2], k2, block_size, k1, block_size)


def uicm(img: torch.Tensor, alpha: float = 0.1) -> float:
    """Underwater image colourfulness measure of a [3, H, W] RGB image in [0, 255].

    ``-0.0268 sqrt(mu_RG^2 + mu_YB^2) + 0.1586 sqrt(var_RG + var_YB)`` over the opponent
    channels ``RG = R - G`` and ``YB = (R + G) / 2 - B`` (grey levels). ``mu`` is the
    alpha-trimmed mean: of the ``K = H W`` sorted values, the ``ceil(alpha K)`` smallest and
    the ``floor(alpha K)`` largest are dropped (``alpha K`` is rounded to 1e-9 first, so
    that 0.07 x 100 drops 7, not 8) and the ``K - ceil(alpha K) - floor(alpha K)`` left
    are averaged. ``var`` is the mean over all K pixels of ``(x - mu)^2`` (around the trimmed
    mean, not trimmed itself), as in Panetta et al. 2016.
    """
    if not 0 <= alpha < 0.5:
        raise ValueError(f'alpha must be in [0, 0.5), got {alpha}')
    r, g, b = _rgb(img).reshape(3, -1).numpy()
    opp = np.stack([r - g, (r + g) / 2 - b])  # [2, K]
    k = opp.shape[1]
    t_l, t_r = math.ceil(round(alpha * k, 9)), math.floor(round(alpha * k, 9))
    if k - t_l - t_r < 1:
        raise ValueError(f'alpha-trimming {t_l} + {t_r} of {k} pixels leaves none')
    # positions t_l .. k - t_r - 1 of a partition around them hold the kept values (unsorted)
    kept = np.partition(opp, sorted({t_l, k - t_r - 1}), axis=1)[:, t_l:k - t_r]
    mu = kept.mean(1)
    var = np.square(opp - mu[:, None]).mean(1)
    return float(-0.0268 * np.sqrt(np.square(mu).sum()) + 0.1586 * np.sqrt(var.sum()))


def sobel_magnitude(x: torch.Tensor) -> torch.Tensor:
    """Sobel gradient magnitude ``sqrt(gx^2 + gy^2)`` of every [H, W] map of ``x``
    [C, H, W], same shape: the 3x3 kernels ``[1, 2, 1]^T [-1, 0, 1] / 8`` and transpose (a
    ramp of slope s grey levels per pixel gives s), replicated borders, computed separably.
    """
    import torch.nn.functional as F

    p = F.pad(x[:, None], (1, 1, 1, 1), mode='replicate')[:, 0]  # [C, H + 2, W + 2]
    smooth_v = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]  # [C, H, W + 2]
    smooth_h = p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]  # [C, H + 2, W]
    gx = smooth_v[:, :, 2:] - smooth_v[:, :, :-2]
    gy = smooth_h[:, 2:] - smooth_h[:, :-2]
    return torch.hypot(gx, gy) / 8


def eme(x: torch.Tensor, block_size: int = 8, eps: Optional[float] = None) -> torch.Tensor:
    """Measure of enhancement ``(2 / (k1 k2)) sum_blocks log(Imax / Imin)`` of every map of
    ``x`` [..., H, W] (non-negative values) over the ``k1 x k2`` full blocks: a tensor of
    shape [...].

    A block whose minimum (or maximum) is 0 contributes 0 and still counts in ``k1 k2``:
    the convention of the UIQM implementation most underwater papers run (FUnIE-GAN's
    ``uqim_utils.py``). The value is then invariant to scaling the map. ``eps`` (in the
    map's units) selects instead the guarded form ``log((Imax + eps) / (Imin + eps))`` for
    every block, kept only to reproduce older numbers: it scores a block reaching 0 as
    ``log(Imax / eps + 1)``, so flat, hazy images look sharp (``docs/metrics.md``).
    """
    if bool((x < 0).any()):
        raise ValueError(f'eme needs non-negative maps, got a minimum of {float(x.min())}')
    blocks = _blocks(x, block_size)
    k2, k1 = blocks.shape[-4], blocks.shape[-2]
    hi, lo = blocks.amax((-3, -1)), blocks.amin((-3, -1))
    if eps is None:  # log(1) = 0 where the minimum is 0
        ratio = torch.where(lo > 0, hi / torch.where(lo > 0, lo, 1), 1)
    else:
        ratio = (hi + eps) / (lo + eps)
    return 2 / (k1 * k2) * ratio.log().sum((-2, -1))


def uism(img: torch.Tensor, block_size: int = 8, eps: Optional[float] = None) -> float:
    """Underwater image sharpness measure of a [3, H, W] RGB image in [0, 255].

    ``0.299 EME_R + 0.587 EME_G + 0.114 EME_B`` (not the 0.144 typo of a widely copied
    implementation), where ``EME_c`` is :func:`eme` of the edge map of channel ``c``
    multiplied by channel ``c`` (:func:`sobel_magnitude` x intensity, grey^2 / pixel);
    ``eps``: the guarded EME of older numbers (:func:`eme`), ``None`` for the standard one.
    """
    rgb = _rgb(img)
    emes = eme(sobel_magnitude(rgb) * rgb, block_size, eps)
    return float(emes @ torch.tensor(UISM_WEIGHTS, dtype=emes.dtype))


def logamee(grey: torch.Tensor, block_size: int = 8) -> float:
    """PLIP log-AMEE of Panetta et al. 2016 of an [H, W] intensity map in [0, 255]:
    ``(1 / (k1 k2)) (x) sum_blocks r log r`` with ``r = (Imax (-) Imin) / (Imax (+) Imin)``.

    PLIP operations (gamma = k = 1026): ``a (+) b = a + b - a b / gamma``, ``a (-) b =
    k (a - b) / (k - b)``, ``c (x) a = gamma - gamma (1 - a / gamma)^c``. ``r`` lies in
    [0, 1], so the value is <= 0; a flat block (r = 0, including an all-black one) and a
    block reaching 0 (r = 1) contribute 0.
    """
    blocks = _blocks(grey.double(), block_size)
    k2, k1 = blocks.shape[-4], blocks.shape[-2]
    hi, lo = blocks.amax((-3, -1)), blocks.amin((-3, -1))
    num = PLIP_K * (hi - lo) / (PLIP_K - lo)
    den = hi + lo - hi * lo / PLIP_GAMMA  # 0 only for an all-black block, where num = 0
    ratio = num / den.clamp_min(1e-12)
    total = float(torch.special.xlogy(ratio, ratio).sum())
    return PLIP_GAMMA - PLIP_GAMMA * (1 - total / PLIP_GAMMA)**(1 / (k1 * k2))


def uiconm(img: torch.Tensor, block_size: int = 8) -> float:
    """Underwater image contrast measure of a [3, H, W] RGB image in [0, 255]: ``-``
    :func:`logamee` of its intensity ``0.299 R + 0.587 G + 0.114 B`` (BT.601 luma, not
    rounded), so that the value is >= 0 (the sign of the widely used implementation). Per
    block, ``-r log r`` peaks at ``r = 1/e``: flat blocks and blocks spanning down to 0 add
    nothing."""
    grey = torch.tensordot(torch.tensor(UISM_WEIGHTS, dtype=torch.float64), _rgb(img), 1)
    return -logamee(grey, block_size)


def uiqm(img: torch.Tensor, block_size: int = 8) -> float:
    """UIQM ``0.0282 UICM + 0.2953 UISM + 3.5753 UIConM`` of a [3, H, W] RGB image in
    [0, 255] (:func:`uicm` with alpha 0.1, :func:`uism`, :func:`uiconm`)."""
    terms = (uicm(img), uism(img, block_size), uiconm(img, block_size))
    return float(sum(w * t for w, t in zip(UIQM_WEIGHTS, terms)))


def uciqe_terms(img: torch.Tensor) -> Tuple[float, float, float]:
    """``(sigma_c, con_l, mu_s)`` of a [3, H, W] RGB image in [0, 255], in CIELab
    (:func:`kornia.color.rgb_to_lab`: sRGB, D65; L* in [0, 100]).

    ``sigma_c``: population standard deviation of the chroma ``C* = sqrt(a*^2 + b*^2)``
    divided by 133.8042, the largest sRGB chroma (:data:`LAB_CHROMA_MAX`), so in [0, 1].
    ``con_l``: 99th minus 1st percentile (linear interpolation, :func:`numpy.percentile`)
    of ``L* / 100``. ``mu_s``: mean saturation
    ``C* / sqrt(C*^2 + L*^2)`` (raw CIELab units; 0 for black), in [0, 1]: bounded, unlike
    ``C* / L*``, which diverges on the near-black pixels frequent in underwater images.
    """
    from kornia.color import rgb_to_lab

    lab = rgb_to_lab((_rgb(img) / 255)[None])[0]
    lum, chroma = lab[0], torch.hypot(lab[1], lab[2])
    sigma_c = float((chroma / LAB_CHROMA_MAX).std(correction=0))
    p1, p99 = np.percentile((lum / 100).numpy().ravel(), [1, 99])
    mu_s = float((chroma / torch.hypot(chroma, lum).clamp_min(1e-12)).mean())
    return sigma_c, float(p99 - p1), mu_s


def uciqe(img: torch.Tensor) -> float:
    """UCIQE ``0.4680 sigma_c + 0.2745 con_l + 0.2576 mu_s`` of a [3, H, W] RGB image in
    [0, 255] (terms: :func:`uciqe_terms`)."""
    return float(np.dot(UCIQE_WEIGHTS, uciqe_terms(img)))


@METRICS.register_module()
class UnderwaterQualityMetric(BaseMetric):
    """No-reference UIQM and UCIQE of ``pred_clean`` and of the input image.

    Protocol: by default (``score='no_reference'``) only samples without a reference path
    (``metainfo[ref_key]`` missing or None: the real detection images) are scored;
    ``score='all'`` scores every sample with a prediction. The prediction
    (``pred_clean.data``, [3, H, W] RGB in [0, 1] at the original image size) is quantised
    to 8 bits (``round(255 x)``, as if saved); the input is read from
    ``metainfo['img_path']`` (RGB uint8, decoded with Pillow so that a truncated file raises;
    scored once per path). :func:`uiqm` (8x8 blocks) and :func:`uciqe` are computed per
    image at its original size (the values depend on the size), then averaged over images.

    Samples without ``pred_clean``, and with ``score='no_reference'`` those with a
    reference, are skipped; the counts are logged. A missing or undecodable input, a
    prediction with NaN or inf, or one whose size differs from the input's raises an error
    naming the file.

    Keys: ``enh/uiqm``, ``enh/input_uiqm``, ``enh/uciqe``, ``enh/input_uciqe`` (default
    prefix ``'enh'``, as :class:`EnhancementMetric`, whose keys differ).

    Args:
        score: ``'no_reference'`` or ``'all'``.
        ref_key: metainfo key of the reference image path.
        block_size: UISM / UIConM block size.
        backend_args: mmengine file backend arguments for reading images.
        collect_device, prefix: as :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'enh'
    keys = ('uiqm', 'input_uiqm', 'uciqe', 'input_uciqe')

    def __init__(self, score: str = 'no_reference', ref_key: str = 'ref_path',
                 block_size: int = 8, backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if score not in ('no_reference', 'all'):
            raise ValueError(f"score must be 'no_reference' or 'all', got {score!r}")
        self.score = score
        self.ref_key = ref_key
        self.block_size = block_size
        self.backend_args = backend_args
        # input path -> (shape, UIQM, UCIQE) of the input: fixed across evaluations
        self._input_scores: Dict[str, tuple] = {}

    def _scores(self, img: torch.Tensor) -> tuple:
        return uiqm(img, self.block_size), uciqe(img)

    def _input_score(self, img_path: str) -> tuple:
        """(shape, UIQM, UCIQE) of the input image, computed once per path."""
        if img_path not in self._input_scores:
            inp = read_rgb(img_path, self.backend_args, 'UnderwaterQualityMetric')
            self._input_scores[img_path] = (inp.shape, *self._scores(inp))
        return self._input_scores[img_path]

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if PRED_FIELD not in sample:
                self.results.append(dict(skipped=_NO_PRED))
                continue
            if self.score == 'no_reference' and sample.get(self.ref_key):
                self.results.append(dict(skipped='has a reference'))
                continue
            img_path = sample['img_path']
            pred = sample[PRED_FIELD]['data'].detach().cpu().double()
            if not torch.isfinite(pred).all():
                raise ValueError(f'UnderwaterQualityMetric: {PRED_FIELD} of {img_path} '
                                 'contains NaN or inf')
            pred = (pred.clamp(0, 1) * 255).round()
            shape, input_uiqm, input_uciqe = self._input_score(img_path)
            if shape != pred.shape:
                raise ValueError(f'UnderwaterQualityMetric: {PRED_FIELD} has shape '
                                 f'{tuple(pred.shape)} but {img_path} has {tuple(shape)}')
            pred_uiqm, pred_uciqe = self._scores(pred)
            self.results.append(dict(uiqm=pred_uiqm, input_uiqm=input_uiqm,
                                     uciqe=pred_uciqe, input_uciqe=input_uciqe))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        scored = [r for r in results if 'skipped' not in r]
        reasons = [r['skipped'] for r in results if 'skipped' in r]
        logger.info(f'UnderwaterQualityMetric (score={self.score!r}): {len(scored)} images '
                    f'scored, {len(reasons)} samples skipped ('
                    f'{reasons.count("has a reference")} with a reference, '
                    f'{reasons.count(_NO_PRED)} without {PRED_FIELD})')
        if not scored:
            logger.warning('UnderwaterQualityMetric: no image scored; metrics are NaN')
            return {k: float('nan') for k in self.keys}
        return {k: float(np.mean([r[k] for r in scored])) for k in self.keys}
