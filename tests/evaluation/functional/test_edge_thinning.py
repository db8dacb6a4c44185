"""thin: Guo-Hall thinning as MATLAB's bwmorph('thin', Inf) and scikit-image's thin."""
import numpy as np
import pytest

from mtlunder.evaluation.functional import thin

pytestmark = pytest.mark.usefixtures('single_thread')


def test_thin_reproduces_the_reference_example():
    # the example of skimage.morphology.thin (Guo-Hall, as MATLAB bwmorph 'thin')
    square = np.zeros((7, 7), dtype=bool)
    square[1:-1, 2:-2] = 1
    square[0, 1] = 1
    expected = np.zeros((7, 7), dtype=bool)
    expected[[0, 1, 2, 3, 4], [1, 2, 3, 3, 3]] = 1
    np.testing.assert_array_equal(thin(square), expected)
    line = np.zeros((9, 9), dtype=bool)
    line[:, 4] = 1
    np.testing.assert_array_equal(thin(line), line)          # one pixel wide: unchanged
    band = np.zeros((12, 15), dtype=bool)
    band[3:8, 1:14] = 1
    thinned = thin(band)
    assert thinned.sum() > 0 and not (thinned & ~band).any()
    assert (thinned.sum(0) <= 1).all()                       # one pixel per column
    np.testing.assert_array_equal(thin(thinned), thinned)


# neighbourhood codes deleted by each sub-iteration: the entries set in scikit-image's
# hard-coded G123_LUT / G123P_LUT (skimage/morphology/_skeletonize.py)
G123_DELETED = [14, 20, 22, 28, 30, 52, 54, 56, 60, 62, 80, 84, 86, 88, 92, 94, 112, 116, 118,
                120, 124, 126, 193, 208, 209, 212, 216, 217, 220, 224, 225, 240, 241, 244, 248,
                249, 252]
G123P_DELETED = [5, 7, 13, 14, 15, 28, 29, 30, 31, 65, 67, 69, 71, 77, 79, 97, 99, 101, 103,
                 131, 133, 135, 141, 143, 157, 159, 193, 195, 197, 199, 205, 207, 224, 225, 227,
                 229, 231]


def test_thin_tables_and_loop_match_skimage_formulation():
    from scipy import ndimage as ndi

    from mtlunder.evaluation.functional.edge_thinning import _THIN_LUTS

    assert np.flatnonzero(_THIN_LUTS[0]).tolist() == G123_DELETED
    assert np.flatnonzero(_THIN_LUTS[1]).tolist() == G123P_DELETED
    mask = np.array([[8, 4, 2], [16, 0, 1], [32, 64, 128]], dtype=np.uint8)

    def reference(img):  # skimage.morphology.thin's loop
        skel, before = img.astype(np.uint8), -1
        while before != skel.sum():
            before = skel.sum()
            for lut in _THIN_LUTS:
                skel[np.take(lut, ndi.correlate(skel, mask, mode='constant'))] = 0
        return skel.astype(bool)

    rng = np.random.default_rng(1)
    for p in (0.3, 0.6, 0.9):
        blob = rng.random((25, 31)) < p
        np.testing.assert_array_equal(thin(blob), reference(blob))


def test_thin_matches_skimage_when_installed():
    morphology = pytest.importorskip('skimage.morphology')
    rng = np.random.default_rng(0)
    for _ in range(5):
        blob = rng.random((30, 40)) < 0.55
        np.testing.assert_array_equal(thin(blob), morphology.thin(blob))
