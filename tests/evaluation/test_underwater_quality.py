"""UIQM / UCIQE terms against hand-computed values, the metric end to end, and the ranking of
real quality-ranked underwater images (RUIE-UIQS)."""
import math
from pathlib import Path
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

UIQS = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data' / 'ruie_uiqs_subset'


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
    x[3, 12] = 26  # block 2: max 26, min 0 (guarded by eps = 1)
    # (2 / (1 * 2)) (log(9 / 3) + log(27 / 1)) = log 81
    assert float(eme(x)) == pytest.approx(math.log(81), rel=1e-12)
    assert float(eme(x, eps=0.5)) == pytest.approx(math.log(8.5 / 2.5 * 26.5 / 0.5))
    # rows / columns that do not fill a block are left out: 8 x 16 -> 15 x 23 changes nothing
    padded = torch.full((15, 23), 1000., dtype=torch.float64)
    padded[:8, :16] = x
    assert float(eme(padded)) == pytest.approx(math.log(81), rel=1e-12)
    assert float(eme(torch.zeros(8, 8))) == 0  # max = min = 0: log(1)
    with pytest.raises(ValueError, match='8x8'):
        eme(torch.ones(7, 30))


def test_uism_blue_weight_is_0114():
    # only blue has an edge: a step 0 -> 200 between columns 3 and 4 of one 8x8 block;
    # Sobel / 8 gives 100 at columns 3 and 4, times B: 0 and 20000; max 20000, min 0, so
    # EME_B = 2 log(20001); R and G are flat (EME 0)
    blue = torch.zeros(8, 8)
    blue[:, 4:] = 200
    value = uism(rgb(torch.full((8, 8), 90.), 60, blue))
    assert value == pytest.approx(0.114 * 2 * math.log(20001), rel=1e-12)
    assert abs(value - 0.144 * 2 * math.log(20001)) > 0.5  # the widely copied typo
    # the same edge in red or green weighs 0.299 / 0.587
    assert uism(rgb(blue, 60, 90)) == pytest.approx(0.299 * 2 * math.log(20001), rel=1e-12)
    assert uism(rgb(90, blue, 90)) == pytest.approx(0.587 * 2 * math.log(20001), rel=1e-12)


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
    base = rng.integers(0, 256, (24, 32, 3)).astype(np.uint8)
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


def test_real_quality_levels_are_ranked():
    """RUIE-UIQS (A best to E worst, 12 real 400x300 images each), means per level: UIQM
    ranks A above E; UCIQE does not separate them (its contrast term ranks A above E, but
    its saturation term ranks the colour-cast E images above A)."""
    if not UIQS.exists():
        pytest.skip(f'shared real data (RUIE-UIQS subset) not found at {UIQS}')
    import mmcv

    means = {}
    for level in 'ABCDE':
        paths = sorted((UIQS / level).glob('*.jpg'))
        assert len(paths) == 12
        imgs = [chw(mmcv.imread(str(p), channel_order='rgb', backend='pillow'))
                for p in paths]
        means[level] = np.mean([(uiqm(i), uciqe(i), *uciqe_terms(i)) for i in imgs], 0)
    a, e = means['A'], means['E']
    assert a[0] > e[0] + 0.05  # UIQM: 2.835 vs 2.734
    assert abs(a[1] - e[1]) < 0.005  # UCIQE: 0.2933 vs 0.2937, no separation
    assert a[3] > e[3] + 0.05  # con_l: 0.466 vs 0.353
    assert e[4] > a[4] + 0.05  # mu_s: 0.678 vs 0.555
