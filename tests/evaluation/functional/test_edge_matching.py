"""match_edges: a maximum one-to-one matching of edge pixels within a radius."""
import numpy as np
import pytest

from mtlunder.evaluation.functional import match_edges

pytestmark = pytest.mark.usefixtures('single_thread')


def test_match_edges_is_a_maximum_matching():
    from scipy.optimize import linear_sum_assignment

    # greedy nearest matching pairs a with g1 (distance 0) and leaves b alone; the maximum
    # matching pairs a with g2 and b with g1
    pred = np.zeros((1, 3), dtype=bool)
    pred[0, [1, 2]] = 1          # a, b
    gt = np.zeros((1, 3), dtype=bool)
    gt[0, [0, 1]] = 1            # g2, g1
    assert match_edges(pred, gt, 1.0) == 2
    # random sparse maps against a dense assignment (cost 0 within the radius, 1 outside)
    rng = np.random.default_rng(0)
    for radius in (1.0, 1.5, 2.3):
        for _ in range(4):
            p, g = rng.random((12, 14)) < 0.25, rng.random((12, 14)) < 0.25
            d = np.hypot(*(np.argwhere(p)[:, None] - np.argwhere(g)[None]).transpose(2, 0, 1))
            cost = (d > radius + 1e-9).astype(float)
            rows, cols = linear_sum_assignment(cost)
            assert match_edges(p, g, radius) == int((cost[rows, cols] == 0).sum())
