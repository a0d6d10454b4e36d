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


@nb.njit(cache=True, inline="always")
def _normed(x, y, z):
    n = np.sqrt(x * x + y * y + z * z)
    if n > 0:
        return x / n, y / n, z / n
    return 0.0, 0.0, 0.0


@nb.njit(cache=True, nogil=True)
def place_hydrogens(xyz, nbr, donors, elem, aromatic, unsat, bonds, order, use_orders, dh, cos_tet, sin_tet,
                    cos_tri, sin_tri, h, status):
    """Open Babel's hydrogen positions for ``donors`` (rules: :mod:`pocketvox.interactions.hydrogens`).

    elem : (N,) int8 codes 1 C, 2 N, 3 O, 0 other; unsat : (N,) aromatic or multiply bonded (used
    with ``use_orders`` only); bonds / order : (M, 2), (M,) (imine test, ``use_orders`` only);
    cos/sin_tet, cos/sin_tri : of 180° minus the X-D-H angle; h : (K, 3, 3) NaN-filled output, Å;
    status : (K,) int8 output (0 placed, 1 free, 2 arbitrary).
    """
    for k in range(donors.shape[0]):
        d = donors[k]
        dx, dy, dz = xyz[d, 0], xyz[d, 1], xyz[d, 2]
        nn = 0
        for s in range(nbr.shape[1]):
            if nbr[d, s] >= 0:
                nn += 1
        if nn == 0:
            status[k] = 1
            continue
        if nn >= 2:
            sx = sy = sz = 0.0
            for s in range(nbr.shape[1]):
                j = nbr[d, s]
                if j >= 0:
                    ux, uy, uz = _normed(xyz[j, 0] - dx, xyz[j, 1] - dy, xyz[j, 2] - dz)
                    sx += ux
                    sy += uy
                    sz += uz
            hx, hy, hz = _normed(-sx, -sy, -sz)
            if use_orders and nn == 2 and elem[d] == 2 and not unsat[d]:
                a, b = nbr[d, 0], nbr[d, 1]
                if a < 0 or b < 0:  # neighbours not in the first two slots
                    a = b = -1
                    for s in range(nbr.shape[1]):
                        if nbr[d, s] >= 0:
                            if a < 0:
                                a = nbr[d, s]
                            else:
                                b = nbr[d, s]
                if not unsat[a] and not unsat[b]:
                    if xyz[b, 2] < xyz[a, 2]:  # Open Babel lists neighbours by increasing z
                        a, b = b, a
                    ax, ay, az = _normed(dx - xyz[a, 0], dy - xyz[a, 1], dz - xyz[a, 2])
                    bx, by, bz = _normed(dx - xyz[b, 0], dy - xyz[b, 1], dz - xyz[b, 2])
                    px, py, pz = _normed(ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx)
                    qx, qy, qz = _normed(ax + bx, ay + by, az + bz)
                    r = np.sqrt(0.5)
                    hx, hy, hz = _normed(px + qx * r, py + qy * r, pz + qz * r)
            h[k, 0, 0] = dx + dh * hx
            h[k, 0, 1] = dy + dh * hy
            h[k, 0, 2] = dz + dh * hz
            continue
        x = -1
        for s in range(nbr.shape[1]):
            if nbr[d, s] >= 0:
                x = nbr[d, s]
        # reference: the highest-z other neighbour of X; a carboxyl O's hydrogen: the other terminal O
        ref = -1
        carboxyl = -1
        n_x = 0
        for s in range(nbr.shape[1]):
            j = nbr[x, s]
            if j < 0:
                continue
            n_x += 1
            if j == d:
                continue
            if ref < 0 or xyz[j, 2] > xyz[ref, 2]:
                ref = j
            if carboxyl < 0 and elem[j] == 3:
                deg = 0
                for t in range(nbr.shape[1]):
                    if nbr[j, t] >= 0:
                        deg += 1
                if deg == 1:
                    carboxyl = j
        if elem[d] == 3 and elem[x] == 1 and carboxyl >= 0:
            ref = carboxyl
        if ref < 0:
            status[k] = 2
            continue
        ax, ay, az = _normed(dx - xyz[x, 0], dy - xyz[x, 1], dz - xyz[x, 2])  # X -> D, outwards
        rx, ry, rz = xyz[ref, 0] - xyz[x, 0], xyz[ref, 1] - xyz[x, 1], xyz[ref, 2] - xyz[x, 2]
        along = rx * ax + ry * ay + rz * az
        e1x, e1y, e1z = _normed(rx - along * ax, ry - along * ay, rz - along * az)
        e2x, e2y, e2z = ay * e1z - az * e1y, az * e1x - ax * e1z, ax * e1y - ay * e1x
        # trigonal parent: aromatic, or three heavy neighbours in one plane
        flat = aromatic[x]
        if not flat and n_x == 3:
            v = np.empty((3, 3))
            c = 0
            for s in range(nbr.shape[1]):
                j = nbr[x, s]
                if j >= 0 and c < 3:
                    v[c, 0], v[c, 1], v[c, 2] = _normed(xyz[j, 0] - xyz[x, 0], xyz[j, 1] - xyz[x, 1],
                                                        xyz[j, 2] - xyz[x, 2])
                    c += 1
            cx = v[0, 1] * v[1, 2] - v[0, 2] * v[1, 1]
            cy = v[0, 2] * v[1, 0] - v[0, 0] * v[1, 2]
            cz = v[0, 0] * v[1, 1] - v[0, 1] * v[1, 0]
            flat = abs(cx * v[2, 0] + cy * v[2, 1] + cz * v[2, 2]) < 0.25
        ct, st = (cos_tri, sin_tri) if flat else (cos_tet, sin_tet)
        # first hydrogen anti (180°) to the reference
        h[k, 0, 0] = dx + dh * (ct * ax - st * e1x)
        h[k, 0, 1] = dy + dh * (ct * ay - st * e1y)
        h[k, 0, 2] = dz + dh * (ct * az - st * e1z)
        if elem[d] != 2:
            continue
        if use_orders:
            imine = False
            for b in range(bonds.shape[0]):
                if ((bonds[b, 0] == d and bonds[b, 1] == x) or (bonds[b, 0] == x and bonds[b, 1] == d)) \
                        and order[b] > 1.5:
                    imine = True
            if imine:
                continue
        # NH2: the second hydrogen in plane (0°) for a trigonal X, at +60° for a tetrahedral one
        cp, sp = (1.0, 0.0) if flat else (0.5, np.sqrt(3.0) / 2.0)
        h[k, 1, 0] = dx + dh * (ct * ax + st * (cp * e1x + sp * e2x))
        h[k, 1, 1] = dy + dh * (ct * ay + st * (cp * e1y + sp * e2y))
        h[k, 1, 2] = dz + dh * (ct * az + st * (cp * e1z + sp * e2z))
