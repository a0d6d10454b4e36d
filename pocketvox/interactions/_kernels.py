"""Numba kernels for the irregular parts of the profiler (pair search, neighbour tables, patches).

Imported only inside functions of :mod:`pocketvox.interactions`, so ``import pocketvox`` stays free of
numba. Distances are computed as ``sqrt((dx² + dy²) + dz²)`` in that order (no fused multiply-add),
the same arithmetic as SciPy's KD-tree, so results match the former KD-tree search bit for bit.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _site_pairs(lig, prot, keep, bs2, r2, site, pl, pp, pd):
    n, m, cap = prot.shape[0], lig.shape[0], pl.shape[0]
    bs = np.sqrt(bs2)
    lo = lig[0].copy()
    hi = lig[0].copy()
    for i in range(1, m):
        for k in range(3):
            lo[k] = min(lo[k], lig[i, k])
            hi[k] = max(hi[k], lig[i, k])
    lo -= bs
    hi += bs
    cnt = 0
    for j in range(n):
        if not keep[j]:
            continue
        x, y, z = prot[j, 0], prot[j, 1], prot[j, 2]
        if x < lo[0] or x > hi[0] or y < lo[1] or y > hi[1] or z < lo[2] or z > hi[2]:
            continue
        start = cnt
        dmin = np.inf
        for i in range(m):
            dx = lig[i, 0] - x
            dy = lig[i, 1] - y
            dz = lig[i, 2] - z
            d2 = dx * dx + dy * dy
            d2 = d2 + dz * dz
            dmin = min(dmin, d2)
            if d2 <= r2:
                if cnt < cap:
                    pl[cnt] = i
                    pp[cnt] = j
                    pd[cnt] = np.sqrt(d2)
                cnt += 1
        if dmin < bs2:
            site[j] = True
        else:
            cnt = start  # pairs count only with binding-site atoms
    return cnt


def site_pairs(lig: np.ndarray, prot: np.ndarray, keep: np.ndarray, bs2: float, r2: float):
    """Binding site and candidate pairs in one pass over the receptor.

    lig (L, 3), prot (N, 3) Å; keep (N,) bool: receptor rows that may enter the site (heavy atoms);
    bs2, r2: squared binding-site and pair-search radii (Å²).
    Returns ``site (N,) bool`` (some ligand atom closer than the binding-site radius) and the pairs
    with squared distance <= r2 between the ligand and site rows, ordered by (receptor row, ligand
    row): ``pl (P,) int64, pp (P,) int64, pd (P,) float64`` Å.
    """
    n, m = len(prot), len(lig)
    site = np.zeros(n, bool)
    cap = 16 * m
    while True:
        pl, pp, pd = np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap)
        if m == 0 or n == 0:
            return site, pl[:0], pp[:0], pd[:0]
        cnt = _site_pairs(lig, prot, keep, float(bs2), float(r2), site, pl, pp, pd)
        if cnt <= cap:
            return site, pl[:cnt], pp[:cnt], pd[:cnt]
        cap = cnt  # rare: a dense pocket or a large search radius; the second pass fits
        site[:] = False


@nb.njit(cache=True, nogil=True)
def padded_neighbors(n, bonds, keep, width):
    """(n, width) int64: for every row, its ``width`` lowest-numbered bonded partners among rows with
    ``keep`` (both ends kept), ascending, padded with -1. bonds (M, 2) int."""
    out = np.full((n, width), -1, np.int64)
    cnt = np.zeros(n, np.int64)
    for e in range(bonds.shape[0]):
        a, b = bonds[e, 0], bonds[e, 1]
        if not (keep[a] and keep[b]):
            continue
        for s, t in ((a, b), (b, a)):
            c = cnt[s]
            if c < width:
                pos = c
                cnt[s] = c + 1
            elif t < out[s, width - 1]:
                pos = width - 1
            else:
                continue
            # insertion keeps the row sorted
            while pos > 0 and out[s, pos - 1] > t:
                out[s, pos] = out[s, pos - 1]
                pos -= 1
            out[s, pos] = t
    return out


@nb.njit(cache=True, nogil=True)
def patch_keep(lg, pr, d, n_lig, bonds, n_prot):
    """Hydrophobic rule 3 (see :mod:`pocketvox.interactions.hydrophobic`): contacts (lg, pr, d) in
    one list; contacts sharing a protein atom whose ligand atoms are bonded form a patch. Returns
    (K,) bool: the protein atom has one contact, or this is the closest contact (first on ties) of a
    patch of at least two."""
    k = lg.shape[0]
    keep = np.zeros(k, np.bool_)
    per_atom = np.zeros(n_prot, np.int64)
    for a in range(k):
        per_atom[pr[a]] += 1
    adj = np.zeros((n_lig, n_lig), np.bool_)
    for e in range(bonds.shape[0]):
        adj[bonds[e, 0], bonds[e, 1]] = True
        adj[bonds[e, 1], bonds[e, 0]] = True
    parent = np.arange(k)
    for a in range(k):
        if per_atom[pr[a]] < 2:
            continue
        for b in range(a + 1, k):
            if pr[b] == pr[a] and adj[lg[a], lg[b]]:
                ra = a
                while parent[ra] != ra:
                    ra = parent[ra]
                rb = b
                while parent[rb] != rb:
                    rb = parent[rb]
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    size = np.zeros(k, np.int64)
    best = np.full(k, -1, np.int64)
    root = np.empty(k, np.int64)
    for a in range(k):
        r = a
        while parent[r] != r:
            r = parent[r]
        root[a] = r
        size[r] += 1
        if best[r] < 0 or d[a] < d[best[r]]:
            best[r] = a
    for a in range(k):
        if per_atom[pr[a]] == 1:
            keep[a] = True
        elif size[root[a]] >= 2 and best[root[a]] == a:
            keep[a] = True
    return keep
