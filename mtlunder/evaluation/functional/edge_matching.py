"""One-to-one matching of predicted and labelled edge pixels within a radius (the
correspondence step of the BSDS boundary benchmark)."""
from typing import List

import numpy as np


def match_edges(pred: np.ndarray, gt: np.ndarray, max_dist_px: float) -> int:
    """Size of a maximum one-to-one matching between the pixels of the binary maps
    ``pred`` and ``gt`` ([H, W]), pairs at Euclidean distance <= ``max_dist_px``.

    Candidate pairs come from a k-d tree (:meth:`scipy.spatial.cKDTree.
    sparse_distance_matrix`). A greedy start (vectorised rounds: each unmatched pred pixel
    proposes to its nearest unmatched gt pixel, each gt pixel accepts its nearest proposer;
    at most 20 rounds) is completed by depth-first augmenting-path searches from the
    unmatched pixels of the side with fewer of them (each pixel visited once per round,
    rounds until one finds none), so the result is a maximum-cardinality matching
    (Berge). BSDS's ``correspondPixels`` minimises the total distance plus 100 x radius
    per unmatched pixel of either map, which gives the same number of matches unless adding
    one would move about 200 matched pairs; which pixels pair up can differ. (scipy's
    ``maximum_bipartite_matching`` / ``min_weight_full_bipartite_matching`` are not used:
    their Hopcroft-Karp search takes time exponential in the depth of layered graphs, scipy
    issue 26147, and did not return on a 240 x 320 edge map.)
    """
    from scipy.spatial import cKDTree

    p_xy, g_xy = np.argwhere(pred), np.argwhere(gt)
    if len(p_xy) == 0 or len(g_xy) == 0:
        return 0
    pairs = cKDTree(p_xy).sparse_distance_matrix(cKDTree(g_xy), max_dist_px + 1e-9,
                                                 output_type='ndarray')
    if len(pairs) == 0:
        return 0
    # nearest first (squared distances are integers), then by pred index
    order = np.argsort(np.rint(pairs['v']**2).astype(np.int64) * len(p_xy) + pairs['i'],
                       kind='stable')
    pi, gi = pairs['i'][order], pairs['j'][order]
    match_p = np.full(len(p_xy), -1, dtype=np.int64)
    match_g = np.full(len(g_xy), -1, dtype=np.int64)
    for _ in range(20):
        free = (match_p[pi] < 0) & (match_g[gi] < 0)
        if not free.any():
            break
        fp, fg = pi[free], gi[free]
        first = np.sort(np.unique(fp, return_index=True)[1])   # each pred's nearest, by distance
        cp, cg = fp[first], fg[first]
        accepted = np.unique(cg, return_index=True)[1]          # each gt's nearest proposer
        match_p[cp[accepted]], match_g[cg[accepted]] = cg[accepted], cp[accepted]
    # augment from the side with fewer unmatched pixels that have a candidate
    free_p = np.unique(pi[match_p[pi] < 0]).size
    free_g = np.unique(gi[match_g[gi] < 0]).size
    if free_g < free_p:
        pi, gi, match_p, match_g = gi, pi, match_g, match_p
    by_left = np.argsort(pi, kind='stable')
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pi, minlength=len(match_p)))])
    found = _augment(indptr.tolist(), gi[by_left].tolist(), match_p.tolist(), match_g.tolist())
    return int((match_p >= 0).sum()) + found


def _augment(indptr: List[int], indices: List[int], match_left: List[int],
             match_right: List[int]) -> int:
    """Complete the matching ``match_left`` / ``match_right`` (lists, -1 = unmatched;
    updated in place) of the bipartite graph whose left vertex u is joined to the right
    vertices ``indices[indptr[u]:indptr[u + 1]]`` to a maximum one; returns the number of
    matches added. Rounds of depth-first augmenting-path searches from every unmatched
    left vertex, each right vertex visited at most once per round; stops after a round
    that finds none (then no augmenting path exists)."""
    added = 0
    while True:
        visited = bytearray(len(match_right))
        found = 0
        for root in range(len(match_left)):
            if match_left[root] >= 0 or indptr[root] == indptr[root + 1]:
                continue
            stack = [[root, indptr[root]]]  # [left vertex, next edge to try]
            while stack:
                top = stack[-1]
                u, k = top
                if k == indptr[u + 1]:
                    stack.pop()
                    continue
                top[1] = k + 1
                v = indices[k]
                if visited[v]:
                    continue
                visited[v] = 1
                if match_right[v] >= 0:
                    stack.append([match_right[v], indptr[match_right[v]]])
                    continue
                for u_i, next_k in stack:  # augment: each level takes the edge it tried
                    v_i = indices[next_k - 1]
                    match_left[u_i], match_right[v_i] = v_i, u_i
                found += 1
                break
        if not found:
            return added
        added += found
