"""UIQM / UCIQE terms against hand-computed values, the metric end to end, and the ranking of
real quality-ranked underwater images (RUIE-UIQS)."""
import math
from unittest import mock

import numpy as np
import pytest
import torch

from mtlunder.evaluation.metrics import UnderwaterQualityMetric
from mtlunder.evaluation.metrics.underwater_quality import (LAB_CHROMA_MAX, eme, logamee,
                                                            sobel_magnitude, uciqe,
                                                            uciqe_terms, uicm, uiconm, uiqm,
                                                            uism)

pytestmark = pytest.mark.usefixtures('single_thread')

def rgb(r, g, b):
    """[3, H, W] float64 image from three [H, W] maps or scalars (broadcast)."""
    return torch.stack(torch.broadcast_tensors(
        *(torch.as_tensor(c, dtype=torch.float64) for c in (r, g, b))))


def test_uicm_alpha_trimmed_statistics():
    # K = 10: the ceil(1) = 1 smallest (0) and floor(1) = 1 largest (250) values are trimmed
    red = torch.tensor([[0., 10, 20, 30, 40], [50, 60, 70, 80, 250]])
    # G = 0, B = 10: RG = R (trimmed mean 45), YB = R / 2 - 10 (trimmed mean 12.5);
    # var = mean over all 10 pixels around the trimmed mean: 48250 / 10, and a quarter of it
    expected = -0.0268 * math.sqrt(45**2 + 12.5**2) + 0.1586 * math.sqrt(4825 + 1206.25)
    assert uicm(rgb(red, 0, 10)) == pytest.approx(expected, rel=1e-12)
    # no trimming: plain mean 61 and variance
    untrimmed = -0.0268 * math.sqrt(61**2 + 20.5**2) + 0.1586 * math.sqrt(
        float(((red - 61)**2).mean()) * 1.25)
    assert uicm(rgb(red, 0, 10), alpha=0) == pytest.approx(untrimmed, rel=1e-12)


def test_uicm_trim_counts_are_exact():
    # K = 100, alpha = 0.07: 0.07 * 100 is 7.000000000000001 in floating point; 7 values go
    # on each side (kept 7..92, mean 49.5), not ceil -> 8 on the left (mean 50)
    red = torch.arange(100.).reshape(10, 10)
    expected = -0.0268 * math.sqrt(49.5**2 + 24.75**2) + 0.1586 * math.sqrt(
        9999 / 12 + 9999 / 48)
    assert uicm(rgb(red, 0, 0), alpha=0.07) == pytest.approx(expected, rel=1e-12)
    assert uicm(rgb(torch.full((4, 4), 77.), 77, 77)) == 0  # grey: no colour at all


def test_sobel_magnitude_units():
    ramp = (3 * torch.arange(10.)).expand(6, 10)[None]  # 3 grey levels per pixel along x
    mag = sobel_magnitude(ramp)[0]
    assert torch.allclose(mag[:, 1:-1], torch.full((6, 8), 3.))
    assert torch.allclose(mag[:, 0], torch.full((6, ), 1.5))  # replicated border


def test_eme_two_blocks_and_borders():
    x = torch.zeros(8, 16, dtype=torch.float64)
    x[:, :8] = 2
    x[0, 0] = 8  # block 1: max 8, min 2
    x[3, 12] = 26  # block 2: max 26, min 0: adds 0 but counts in k1 k2
    # (2 / (1 * 2)) (log(8 / 2) + 0) = log 4
    assert float(eme(x)) == pytest.approx(math.log(4), rel=1e-12)
    # the guarded form only on request: (2 / 2) (log(9 / 3) + log(27 / 1)) = log 81
    assert float(eme(x, eps=1)) == pytest.approx(math.log(81), rel=1e-12)
    assert float(eme(x, eps=0.5)) == pytest.approx(math.log(8.5 / 2.5 * 26.5 / 0.5))
    # rows / columns that do not fill a block are left out: 8 x 16 -> 15 x 23 changes nothing
    padded = torch.full((15, 23), 1000., dtype=torch.float64)
    padded[:8, :16] = x
    assert float(eme(padded)) == pytest.approx(math.log(4), rel=1e-12)
    assert float(eme(torch.zeros(8, 8))) == 0  # max = min = 0
    with pytest.raises(ValueError, match='8x8'):
        eme(torch.ones(7, 30))
    with pytest.raises(ValueError, match='non-negative'):
        eme(-x)


def test_eme_zero_block_convention():
    """A block reaching 0 (flat water in an edge map) adds 0 and still counts in k1 k2, so
    an image that is mostly such blocks scores low; the old eps = 1 guard scored each of
    them log(Imax + 1) and ranked it above a uniformly textured one."""
    gen = torch.Generator().manual_seed(0)
    textured = 1 + torch.rand(16, 16, generator=gen, dtype=torch.float64)  # 4 blocks in [1, 2)
    hazy = torch.zeros(16, 16, dtype=torch.float64)
    hazy[::8, ::8] = 50  # 4 flat blocks, one bright pixel each: min 0, max 50
    blocks = textured.reshape(2, 8, 2, 8)
    expected = 2 / 4 * float((blocks.amax((1, 3)) / blocks.amin((1, 3))).log().sum())
    assert float(eme(textured)) == pytest.approx(expected, rel=1e-12)
    assert float(eme(hazy)) == 0
    assert float(eme(hazy, eps=1)) == pytest.approx(2 * math.log(51), rel=1e-12)
    assert float(eme(hazy, eps=1)) > float(eme(textured, eps=1))  # the old inversion
    # one zero pixel silences its block only: 3 of the 4 blocks are left
    one_zero = textured.clone()
    one_zero[9, 12] = 0
    kept = (blocks.amax((1, 3)) / blocks.amin((1, 3))).log()
    assert float(eme(one_zero)) == pytest.approx(2 / 4 * float(kept.sum() - kept[1, 1]),
                                                 rel=1e-12)
    # ratios only: any rescaling of the map (e.g. a Sobel map normalised to max 255)
    # leaves EME unchanged, unlike the guarded form
    for x in (textured, one_zero, hazy):
        assert float(eme(37.5 * x)) == pytest.approx(float(eme(x)), rel=1e-12, abs=1e-15)
    assert float(eme(37.5 * textured, eps=1)) != pytest.approx(float(eme(textured, eps=1)))


def test_uism_blue_weight_is_0114():
    # only blue has edges: a ramp 10, 30, ..., 150 along x in one 8x8 block; Sobel / 8 gives
    # 20 inside and 10 at the replicated borders, times B: 100 (column 0) .. 2600 (column 6),
    # 1500 (column 7); so EME_B = 2 log(2600 / 100); R and G are flat (min 0: EME 0)
    blue = (10 + 20 * torch.arange(8.)).expand(8, 8)
    value = uism(rgb(torch.full((8, 8), 90.), 60, blue))
    assert value == pytest.approx(0.114 * 2 * math.log(26), rel=1e-12)
    assert abs(value - 0.144 * 2 * math.log(26)) > 0.1  # the widely copied typo
    # the same edges in red or green weigh 0.299 / 0.587
    assert uism(rgb(blue, 60, 90)) == pytest.approx(0.299 * 2 * math.log(26), rel=1e-12)
    assert uism(rgb(90, blue, 90)) == pytest.approx(0.587 * 2 * math.log(26), rel=1e-12)
    # the guarded form on request: eps added to max and min of every block
    assert uism(rgb(90, 60, blue), eps=1) == pytest.approx(
        0.114 * 2 * math.log(2601 / 101), rel=1e-12)


def test_uism_matches_the_widely_used_convention(shared_data):
    """On a real image, UISM equals a per-block loop in the style of the widely used
    implementation (scipy.ndimage.sobel, whose 'reflect' border is the replicated one for a
    3x3 kernel, normalised to a maximum of 255; a block with min or max 0 adds 0), with the
    blue weight 0.114 instead of its 0.144: the /8 Sobel scale does not matter."""
    import mmcv
    from scipy import ndimage

    path = shared_data / 'ruie_uiqs_subset' / 'E'
    hwc = mmcv.imread(str(sorted(path.glob('*.jpg'))[0]), channel_order='rgb',
                      backend='pillow')[:100, :150].astype(np.float64)

    def loop_eme(x, w):
        k2, k1 = x.shape[0] // w, x.shape[1] // w
        total = 0.
        for i in range(k2):
            for j in range(k1):
                block = x[i * w:(i + 1) * w, j * w:(j + 1) * w]
                if block.min() > 0 and block.max() > 0:
                    total += math.log(block.max() / block.min())
        return 2 / (k1 * k2) * total

    for w in (8, 10):
        expected = 0.
        for c, lam in enumerate((0.299, 0.587, 0.114)):
            mag = np.hypot(ndimage.sobel(hwc[..., c], 0), ndimage.sobel(hwc[..., c], 1))
            expected += lam * loop_eme(mag * (255 / mag.max()) * hwc[..., c], w)
        assert uism(chw(hwc), block_size=w) == pytest.approx(expected, rel=1e-9)


def test_logamee_known_blocks():
    block = torch.full((8, 8), 50.)
    block[2, 5] = 200.
    # PLIP: 200 (-) 50 = 1026 * 150 / 976, 200 (+) 50 = 250 - 200 * 50 / 1026
    r = (1026 * 150 / 976) / (250 - 10000 / 1026)
    assert r == pytest.approx(0.65632, abs=1e-5)
    assert logamee(block) == pytest.approx(r * math.log(r), rel=1e-12)  # 1 (x) a = a
    # two blocks, c = 1/2: 1026 - 1026 (1 - (r log r + 0) / 1026)^(1/2); the flat block gives 0
    two = torch.cat([block, torch.full((8, 8), 0.)], 1)
    expected = 1026 - 1026 * (1 - r * math.log(r) / 1026)**0.5
    assert logamee(two) == pytest.approx(expected, rel=1e-12)
    # 1000 such blocks: PLIP c (x) a with c = 1/1000, far from the plain mean r log r
    many = block.repeat(1, 1000)
    expected = 1026 - 1026 * (1 - 1000 * r * math.log(r) / 1026)**(1 / 1000)
    assert logamee(many) == pytest.approx(expected, rel=1e-9)
    assert abs(expected - r * math.log(r)) > 0.03
    # a block reaching 0 has r = 1, r log r = 0
    ramp = torch.arange(64.).reshape(8, 8)
    assert logamee(ramp) == pytest.approx(0, abs=1e-12)


def test_uiconm_is_minus_logamee_of_luma():
    gen = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (3, 16, 24), generator=gen).double()
    luma = 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]
    assert uiconm(img) == pytest.approx(-logamee(luma), rel=1e-12)
    assert uiconm(img) > 0


def test_uiqm_combines_the_three_terms():
    gen = torch.Generator().manual_seed(1)
    img = torch.randint(0, 256, (3, 24, 32), generator=gen).double()
    expected = 0.0282 * uicm(img) + 0.2953 * uism(img) + 3.5753 * uiconm(img)
    assert uiqm(img) == pytest.approx(expected, rel=1e-12)
    assert uiqm(img.to(torch.uint8)) == pytest.approx(expected, rel=1e-12)


def test_uciqe_terms_on_lab_known_images():
    # constant grey: chroma 0, no luminance spread, saturation 0
    grey = uciqe_terms(rgb(torch.full((8, 8), 128.), 128, 128))
    assert grey == pytest.approx((0, 0, 0), abs=1e-4)  # kornia grey: |a*|, |b*| < 0.01
    # half black (L* 0), half white (L* 100): con_l = 1 - 0 (L / 100), the only term
    black_white = torch.zeros(8, 8)
    black_white[:, 4:] = 255
    terms = uciqe_terms(rgb(black_white, black_white, black_white))
    assert terms == pytest.approx((0, 1, 0), abs=1e-4)
    # half black, half sRGB blue (L* 32.30, a* 79.19, b* -107.86: C* = LAB_CHROMA_MAX):
    # chroma / LAB_CHROMA_MAX is 0 or 1 (population std 0.5), con_l = 0.3230,
    # mu_s = (0 + C / sqrt(C^2 + L^2)) / 2 (not C / L)
    blue = torch.zeros(8, 8)
    blue[:, 4:] = 255
    c, lum = math.hypot(79.19, -107.86), 32.30
    terms = uciqe_terms(rgb(0, 0, blue))
    assert terms == pytest.approx((0.5, lum / 100, c / math.hypot(c, lum) / 2), abs=1e-3)
    assert uciqe(rgb(0, 0, blue)) == pytest.approx(
        0.4680 * terms[0] + 0.2745 * terms[1] + 0.2576 * terms[2], rel=1e-12)


def test_chroma_divisor_is_the_srgb_maximum():
    from kornia.color import rgb_to_lab

    gen = torch.Generator().manual_seed(0)
    levels = torch.tensor([0., 0.5, 1.])
    cube = torch.cartesian_prod(levels, levels, levels)  # corners, edge and face centres
    colours = torch.cat([cube, torch.rand(20000, 3, generator=gen)])
    lab = rgb_to_lab(colours.T.reshape(1, 3, -1, 1).double())[0, :, :, 0]
    chroma = torch.hypot(lab[1], lab[2])
    assert float(chroma.max()) == pytest.approx(LAB_CHROMA_MAX, abs=1e-3)
    assert int(chroma.argmax()) == 2  # (0, 0, 1): pure blue


def write_rgb(path, img):
    import cv2

    assert cv2.imwrite(str(path), img[..., ::-1])
    return str(path)


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    # no black pixel: an 8-bit 0 zeroes the edge map there, and a block reaching 0 adds 0
    # to EME (UISM) whatever its edges
    base = rng.integers(20, 236, (24, 32, 3)).astype(np.uint8)
    hazy = (base * 0.4 + np.array([10, 110, 120])).astype(np.uint8)  # flat, blue-green
    pred = np.clip(base.astype(np.float64) + rng.normal(0, 4, base.shape), 0, 255)
    return dict(hazy=hazy, hazy_path=write_rgb(tmp_path / 'hazy.png', hazy),
                other_path=write_rgb(tmp_path / 'other.png', base[::-1].copy()),
                pred=pred.round().astype(np.uint8),
                pred_float=torch.from_numpy(pred.transpose(2, 0, 1).copy()).float() / 255)


def chw(img):
    return torch.from_numpy(img.transpose(2, 0, 1).copy()).double()


def test_metric_end_to_end(images):
    metric = UnderwaterQualityMetric()
    scored = dict(pred_clean=dict(data=images['pred_float']), img_path=images['hazy_path'])
    samples = [scored, dict(scored, ref_path=None),  # no reference: scored (twice)
               dict(scored, ref_path=images['other_path']),  # has a reference: skipped
               dict(img_path=images['hazy_path'])]  # no prediction: skipped
    metric.process({}, samples)
    assert len(metric._input_scores) == 1  # the input is scored once per path
    logger = mock.MagicMock()
    with mock.patch('mtlunder.evaluation.metrics.underwater_quality.MMLogger.'
                    'get_current_instance', return_value=logger):
        res = metric.evaluate(len(samples))
    assert set(res) == {'enh/uiqm', 'enh/input_uiqm', 'enh/uciqe', 'enh/input_uciqe'}
    # the prediction is quantised round(255 x) like a saved image
    assert res['enh/uiqm'] == pytest.approx(uiqm(chw(images['pred'])), rel=1e-9)
    assert res['enh/uciqe'] == pytest.approx(uciqe(chw(images['pred'])), rel=1e-6)
    assert res['enh/input_uiqm'] == pytest.approx(uiqm(chw(images['hazy'])), rel=1e-9)
    assert res['enh/input_uciqe'] == pytest.approx(uciqe(chw(images['hazy'])), rel=1e-6)
    # the hazy input scores lower than the sharper, more colourful prediction
    assert res['enh/uiqm'] > res['enh/input_uiqm']
    assert res['enh/uciqe'] > res['enh/input_uciqe']
    message = logger.info.call_args[0][0]
    assert '2 images scored, 2 samples skipped (1 with a reference, 1 without pred_clean)' \
        in message

    everything = UnderwaterQualityMetric(score='all')
    everything.process({}, samples)
    assert sum('skipped' in r for r in everything.results) == 1
    with pytest.raises(ValueError, match='no_reference'):
        UnderwaterQualityMetric(score='reference')


def test_nothing_scored_gives_nan(images):
    metric = UnderwaterQualityMetric()
    metric.process({}, [dict(img_path=images['hazy_path'])])
    assert all(math.isnan(v) for v in metric.compute_metrics(metric.results).values())


def test_errors_name_the_file(images, tmp_path):
    metric = UnderwaterQualityMetric()
    pred = dict(data=images['pred_float'])
    with pytest.raises(FileNotFoundError, match='missing.png'):
        metric.process({}, [dict(pred_clean=pred, img_path=str(tmp_path / 'missing.png'))])
    broken = tmp_path / 'broken.png'
    broken.write_bytes(open(images['hazy_path'], 'rb').read()[:60])
    with pytest.raises(ValueError, match='broken.png'):
        metric.process({}, [dict(pred_clean=pred, img_path=str(broken))])
    nan = images['pred_float'].clone()
    nan[0, 3, 4] = float('nan')
    with pytest.raises(ValueError, match='hazy.png.*NaN'):
        metric.process({}, [dict(pred_clean=dict(data=nan), img_path=images['hazy_path'])])
    small = dict(data=images['pred_float'][:, :20])
    with pytest.raises(ValueError, match='hazy.png'):
        metric.process({}, [dict(pred_clean=small, img_path=images['hazy_path'])])


@pytest.fixture(scope='module')
def uiqs_scores(shared_data):
    """Quality (A = 4 best ... E = 0 worst) and (UISM, UIQM, UCIQE, sigma_c, con_l, mu_s)
    of the 60 real 400x300 RUIE-UIQS images, as the metric scores them (own size, 8x8
    blocks): arrays [60] and [60, 6]."""
    import mmcv

    root = shared_data / 'ruie_uiqs_subset'
    if not root.is_dir():
        pytest.skip(f'RUIE-UIQS subset not found at {root}')
    quality, scores = [], []
    for q, level in zip(range(4, -1, -1), 'ABCDE'):
        paths = sorted((root / level).glob('*.jpg'))
        assert len(paths) == 12, f'{root / level}: expected 12 images, found {len(paths)}'
        for p in paths:
            img = chw(mmcv.imread(str(p), channel_order='rgb', backend='pillow'))
            scores.append((uism(img), uiqm(img), uciqe(img), *uciqe_terms(img)))
            quality.append(q)
    return np.array(quality), np.array(scores)


@pytest.mark.parametrize('name,col', [('UISM', 0), ('UIQM', 1)])
def test_real_quality_levels_are_ranked(uiqs_scores, name, col):
    """RUIE-UIQS, 12 images per level: UISM and UIQM rank real quality (docs/metrics.md:
    Spearman +0.79 and +0.78; with the old eps = 1 EME, -0.64 and +0.37)."""
    from scipy.stats import spearmanr

    quality, scores = uiqs_scores
    values = scores[:, col]
    rho = spearmanr(quality, values).statistic
    assert rho >= 0.6, f'Spearman(quality, {name}) = {rho:.3f}'
    assert values[quality == 4].mean() > values[quality == 0].mean()  # A above E


def test_real_quality_uciqe_terms(uiqs_scores):
    """UCIQE ranks RUIE-UIQS only weakly (docs/metrics.md: Spearman +0.24, A and E means
    equal to 0.001): its contrast term ranks A above E, its saturation term ranks the
    colour-cast E images above A, and the two cancel."""
    from scipy.stats import spearmanr

    quality, scores = uiqs_scores
    a, e = scores[quality == 4].mean(0), scores[quality == 0].mean(0)
    assert abs(a[2] - e[2]) < 0.005  # UCIQE: no separation of A from E
    assert spearmanr(quality, scores[:, 4]).statistic > 0.3  # con_l
    assert spearmanr(quality, scores[:, 5]).statistic < -0.3  # mu_s, reversed
    assert a[4] > e[4] + 0.05 and e[5] > a[5] + 0.05
