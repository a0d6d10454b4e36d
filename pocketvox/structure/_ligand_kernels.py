"""Numba kernels for ligand bond-order perception and typing, on arrays pulled from the molecule once.

Imported only inside functions of :mod:`pocketvox.structure.ligand` and ``ligand_typing`` (numba is
heavy to import). Neighbours are visited in bond-index order, which is RDKit's ``GetNeighbors`` order,
and the geometry repeats the former pure-Python arithmetic operation by operation, so the hydrogen
guesses and ring tests are the same as before, not merely close.

Conventions: ``bonds`` (B, 2) int64 atom pairs in the molecule's bond order; ``btype`` (B,) int64
RDKit ``BondType`` codes (1 single, 2 double, 3 triple, 12 aromatic, others kept as they are);
``ring_ptr`` (R + 1,) / ``ring_atoms`` flattened ring member lists; coordinates in Å.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

SINGLE, DOUBLE, TRIPLE, AROMATIC = 1, 2, 3, 12

#: Hybridisation thresholds (degrees / Å), see :func:`pocketvox.structure.ligand.guess_hydrogens`.
SP3_MAX_ANGLE = 117.5
SP_MIN_ANGLE = 155.0
PLANAR_MAX_DEVIATION = 0.15
RING_RMS_PLANAR = 0.1

#: Matching outcomes.
OK, RETRY, FAIL, NEED_BLOSSOM = 0, 1, 2, 3

#: Charged-group kinds, in the order of :data:`GROUP_KINDS` (codes returned by :func:`type_kernel`).
GROUP_KINDS = ("quaternary_amine", "tertiary_amine", "sulfonium", "sulfonate", "sulfate", "phosphate",
               "carboxylate", "guanidine")


@nb.njit(cache=True)
def _csr(n, bonds):
    """Neighbours of every atom in bond-index order: ``(ptr (N+1,), nbr (2B,), bidx (2B,))``."""
    cnt = np.zeros(n + 1, np.int64)
    for k in range(bonds.shape[0]):
        cnt[bonds[k, 0] + 1] += 1
        cnt[bonds[k, 1] + 1] += 1
    for i in range(n):
        cnt[i + 1] += cnt[i]
    pos = cnt[:n].copy()
    nbr = np.empty(2 * bonds.shape[0], np.int64)
    bidx = np.empty(2 * bonds.shape[0], np.int64)
    for k in range(bonds.shape[0]):
        i, j = bonds[k, 0], bonds[k, 1]
        nbr[pos[i]] = j
        bidx[pos[i]] = k
        pos[i] += 1
        nbr[pos[j]] = i
        bidx[pos[j]] = k
        pos[j] += 1
    return cnt, nbr, bidx


@nb.njit(cache=True)
def _mean_angle(xyz, i, nb_idx, d, lens):
    """Mean angle (degrees) between every pair of bond vectors from atom ``i``."""
    total = 0.0
    cnt = 0
    for p in range(d):
        a = nb_idx[p]
        for q in range(p + 1, d):
            b = nb_idx[q]
            s = (xyz[a, 0] - xyz[i, 0]) * (xyz[b, 0] - xyz[i, 0])
            s = s + (xyz[a, 1] - xyz[i, 1]) * (xyz[b, 1] - xyz[i, 1])
            s = s + (xyz[a, 2] - xyz[i, 2]) * (xyz[b, 2] - xyz[i, 2])
            c = s / (lens[p] * lens[q])
            total += math.degrees(math.acos(max(-1.0, min(1.0, c))))
            cnt += 1
    return total / cnt


@nb.njit(cache=True)
def _out_of_plane(xyz, i, a, b, c):
    """Distance (Å) of atom ``i`` from the plane through atoms ``a``, ``b``, ``c``."""
    u0, u1, u2 = xyz[b, 0] - xyz[a, 0], xyz[b, 1] - xyz[a, 1], xyz[b, 2] - xyz[a, 2]
    v0, v1, v2 = xyz[c, 0] - xyz[a, 0], xyz[c, 1] - xyz[a, 1], xyz[c, 2] - xyz[a, 2]
    n0 = u1 * v2 - u2 * v1
    n1 = u2 * v0 - u0 * v2
    n2 = u0 * v1 - u1 * v0
    nn = math.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
    if nn <= 1e-6:
        return 0.0
    s = (xyz[i, 0] - xyz[a, 0]) * n0
    s = s + (xyz[i, 1] - xyz[a, 1]) * n1
    s = s + (xyz[i, 2] - xyz[a, 2]) * n2
    return abs(s) / nn


@nb.njit(cache=True)
def guess_hydrogens_kernel(z, xyz, bonds, ring_ptr, ring_atoms):
    """(N,) int64 implicit hydrogen count per atom from heavy-atom geometry.

    z (N,) atomic numbers; xyz (N, 3) Å; rings: RDKit's symmetrised SSSR of the single-bond graph.
    """
    n = z.shape[0]
    ptr, nbr, _ = _csr(n, bonds)
    deg = np.empty(n, np.int64)
    for i in range(n):
        deg[i] = ptr[i + 1] - ptr[i]
    in_ring = np.zeros(n, np.bool_)
    in5 = np.zeros(n, np.bool_)
    ring_planar = np.zeros(n, np.bool_)
    for r in range(ring_ptr.shape[0] - 1):
        lo, hi = ring_ptr[r], ring_ptr[r + 1]
        k = hi - lo
        for t in range(lo, hi):
            in_ring[ring_atoms[t]] = True
            if k == 5:
                in5[ring_atoms[t]] = True
        if k <= 7:
            pts = np.empty((k, 3))
            for t in range(k):
                for c in range(3):
                    pts[t, c] = xyz[ring_atoms[lo + t], c]
            for c in range(3):
                m = 0.0
                for t in range(k):
                    m += pts[t, c]
                m = m / k
                for t in range(k):
                    pts[t, c] -= m
            s = np.linalg.svd(pts)[1]
            if math.sqrt(s[s.shape[0] - 1] ** 2 / k) < RING_RMS_PLANAR:
                for t in range(lo, hi):
                    ring_planar[ring_atoms[t]] = True
    out = np.zeros(n, np.int64)
    nb_idx = np.empty(max(n, 1), np.int64)
    lens = np.empty(max(n, 1))
    for i in range(n):
        d = 0
        for t in range(ptr[i], ptr[i + 1]):
            j = nbr[t]
            if z[j] > 1:
                nb_idx[d] = j
                dx = xyz[j, 0] - xyz[i, 0]
                dy = xyz[j, 1] - xyz[i, 1]
                dz = xyz[j, 2] - xyz[i, 2]
                lens[d] = math.sqrt(dx * dx + dy * dy + dz * dz)
                d += 1
        el = z[i]
        ang = _mean_angle(xyz, i, nb_idx, d, lens) if d >= 2 else 0.0
        lmin = 0.0
        lsum = 0.0
        if d >= 1:
            lmin = lens[0]
            for p in range(d):
                lmin = min(lmin, lens[p])
                lsum += lens[p]
        h = 0
        if el == 6:
            if d == 3:
                planar = _out_of_plane(xyz, i, nb_idx[0], nb_idx[1], nb_idx[2]) < PLANAR_MAX_DEVIATION
                h = 0 if planar else 1
            elif d == 2:
                if ang > SP_MIN_ANGLE:
                    h = 0
                elif in_ring[i]:
                    # a 5-ring is ~108° either way: planarity and bond length decide
                    h = 1 if ring_planar[i] and lmin < 1.45 else 2
                else:
                    h = 1 if (ang > SP3_MAX_ANGLE or lmin < 1.37) else 2
            elif d == 1:
                if z[nb_idx[0]] != 6:
                    h = 3
                else:
                    h = 1 if lens[0] < 1.25 else (2 if lens[0] < 1.40 else 3)
            elif d == 0:
                h = 4
        elif el == 7:
            if d == 3:
                h = 0
            elif d == 2:
                if ang > SP_MIN_ANGLE:
                    h = 0
                elif ang < SP3_MAX_ANGLE and not in_ring[i]:
                    h = 1
                elif in_ring[i]:
                    # a ring N next to a carbonyl carbon is a lactam N-H (uracil, guanine)
                    lactam = False
                    for p in range(d):
                        j = nb_idx[p]
                        if z[j] != 6:
                            continue
                        for t in range(ptr[j], ptr[j + 1]):
                            o = nbr[t]
                            if z[o] == 8 and deg[o] == 1:
                                dx = xyz[o, 0] - xyz[j, 0]
                                dy = xyz[o, 1] - xyz[j, 1]
                                dz = xyz[o, 2] - xyz[j, 2]
                                if math.sqrt(dx * dx + dy * dy + dz * dz) < 1.30:
                                    lactam = True
                    mean_len = lsum / d
                    h = 1 if lactam or (in5[i] and mean_len > 1.355) or (not in5[i] and lmin > 1.40) else 0
                else:
                    h = 0 if lmin < 1.32 else 1
            elif d == 1:
                h = 0 if lens[0] < 1.20 else (1 if lens[0] < 1.30 else 2)
            elif d == 0:
                h = 3
        elif el == 8:
            if d == 1:
                if z[nb_idx[0]] == 15 or z[nb_idx[0]] == 16:
                    h = 0
                else:
                    h = 0 if lens[0] < 1.30 else 1
            elif d == 0:
                h = 2
        elif el == 16:
            if d == 1:
                h = 1 if lens[0] > 1.70 and z[nb_idx[0]] == 6 else 0
            elif d == 0:
                h = 2
        out[i] = h
    return out


@nb.njit(cache=True)
def _valence(zi):
    """Usual valence per element for the matching step (P and S: their hypervalent oxo forms)."""
    if zi == 6:
        return 4
    if zi == 7:
        return 3
    if zi == 8 or zi == 16 or zi == 34:
        return 2
    if zi == 15:
        return 5
    if zi == 5:
        return 3
    if zi == 9 or zi == 17 or zi == 35 or zi == 53:
        return 1
    return 0


@nb.njit(cache=True)
def unsaturation(z, bonds, h):
    """(N,) int64: usual valence minus degree minus guessed H, floored at 0 (S by its oxo count)."""
    n = z.shape[0]
    ptr, nbr, _ = _csr(n, bonds)
    out = np.zeros(n, np.int64)
    for i in range(n):
        deg = ptr[i + 1] - ptr[i]
        v = _valence(z[i])
        if z[i] == 16:
            o_term = 0
            for t in range(ptr[i], ptr[i + 1]):
                j = nbr[t]
                if z[j] == 8 and ptr[j + 1] - ptr[j] == 1:
                    o_term += 1
            if deg > 1:
                v = 2 if o_term == 0 else (4 if o_term == 1 else 6)
            else:
                v = 2
            if deg == 3 and o_term == 1:
                v = 4
        out[i] = max(v - deg - h[i], 0)
    return out


@nb.njit(cache=True)
def greedy_blossom_free_matching(n, edges):
    """Maximum-cardinality matching of a graph, run as NetworkX's ``max_weight_matching(G,
    maxcardinality=True)`` runs on unit weights, as long as no blossom forms.

    ``edges`` (E, 2) in insertion order (NetworkX's node order is first appearance, each node's
    neighbours in edge order). With unit weights every edge stays tight until the last stage, so
    each stage is a plain alternating-forest search: free vertices in node order become roots, the
    queue is a stack, and the first edge joining two trees is augmented. Returns ``(ok, mate (N,))``;
    ``ok`` False when an edge closed an odd cycle inside one tree (a blossom): the caller then runs
    NetworkX itself, so the result is always the one NetworkX gives.
    """
    mate = np.full(n, -1, np.int64)
    order = np.empty(n, np.int64)
    seen = np.zeros(n, np.bool_)
    k = 0
    for e in range(edges.shape[0]):
        for s in range(2):
            v = edges[e, s]
            if not seen[v]:
                seen[v] = True
                order[k] = v
                k += 1
    ptr, nbr, _ = _csr(n, edges)
    label = np.zeros(n, np.int64)
    frm = np.full(n, -1, np.int64)
    root = np.full(n, -1, np.int64)
    stack = np.empty(n + 1, np.int64)
    while True:
        label[:] = 0
        frm[:] = -1
        top = 0
        for t in range(k):
            v = order[t]
            if mate[v] < 0:
                label[v] = 1
                root[v] = v
                stack[top] = v
                top += 1
        augmented = False
        while top > 0 and not augmented:
            top -= 1
            v = stack[top]
            for t in range(ptr[v], ptr[v + 1]):
                w = nbr[t]
                if w == v:
                    continue
                if label[w] == 0:
                    label[w] = 2
                    frm[w] = v
                    root[w] = root[v]
                    m = mate[w]
                    label[m] = 1
                    frm[m] = w
                    root[m] = root[v]
                    stack[top] = m
                    top += 1
                elif label[w] == 1:
                    if root[w] == root[v]:
                        return False, mate
                    for s_, j_ in ((v, w), (w, v)):
                        s, j = s_, j_
                        while True:
                            mate[s] = j
                            if frm[s] < 0:
                                break
                            tt = frm[s]
                            s2 = frm[tt]
                            mate[tt] = s2
                            s, j = s2, tt
                    augmented = True
                    break
        if not augmented:
            return True, mate


@nb.njit(cache=True)
def matching_orders(z, bonds, btype, h, unsat, mate, fc_in):
    """Bond orders from a matching over unsaturated atoms, then valence bookkeeping.

    mate (N,): partner of each matched atom (-1 none). Returns ``(status, btype (B,), fc (N,),
    fc_set (N,) bool, h (N,), safe (N,) bool)``. status RETRY: an unsaturated C/N is left over
    (its hydrogen count in ``h`` is raised by one); FAIL: leftover valence elsewhere. ``safe``
    marks atoms whose final valence is exactly a standard one (C 4, N 3 / N+ 4, O 2 / O- 1,
    halogen or H 1), for which RDKit adds no implicit hydrogens or radicals either way.
    """
    n = z.shape[0]
    nbond = bonds.shape[0]
    ptr, _, _ = _csr(n, bonds)
    bt = btype.copy()
    left = unsat.copy()
    for k in range(nbond):
        i, j = bonds[k, 0], bonds[k, 1]
        if mate[i] == j and mate[j] == i:
            bt[k] = DOUBLE
            left[i] -= 1
            left[j] -= 1
    # sp atoms (nitriles, alkynes) need a second pi bond; P/S oxo acids may take more than one
    for k in range(nbond):
        i, j = bonds[k, 0], bonds[k, 1]
        ps = z[i] == 15 or z[i] == 16 or z[j] == 15 or z[j] == 16
        while left[i] > 0 and left[j] > 0:
            bt[k] = TRIPLE if bt[k] == DOUBLE and not ps else DOUBLE
            left[i] -= 1
            left[j] -= 1
            if ps:
                break
    h_out = h.copy()
    fc = fc_in.copy()
    fc_set = np.zeros(n, np.bool_)
    safe = np.zeros(n, np.bool_)
    stray = False
    for i in range(n):
        if left[i] > 0 and (z[i] == 6 or z[i] == 7):
            h_out[i] += 1
            stray = True
    if stray:
        return RETRY, bt, fc, fc_set, h_out, safe
    for i in range(n):
        deg = ptr[i + 1] - ptr[i]
        if left[i] > 0:
            if (z[i] == 8 or z[i] == 16) and deg == 1:
                fc[i] = -1
                fc_set[i] = True
            elif z[i] != 15 and z[i] != 16:
                return FAIL, bt, fc, fc_set, h_out, safe
        if z[i] == 7 and deg + h[i] == 4:
            fc[i] = 1
            fc_set[i] = True
    val = h.copy()
    odd = np.zeros(n, np.bool_)
    for k in range(nbond):
        b = bt[k]
        for s in range(2):
            a = bonds[k, s]
            if b == SINGLE or b == DOUBLE or b == TRIPLE:
                val[a] += b
            else:
                odd[a] = True
    for i in range(n):
        zi, v, q = z[i], val[i], fc[i]
        if odd[i]:
            continue
        safe[i] = ((zi == 6 and v == 4 and q == 0) or (zi == 7 and ((v == 3 and q == 0) or (v == 4 and q == 1)))
                   or (zi == 8 and ((v == 2 and q == 0) or (v == 1 and q == -1)))
                   or ((zi == 1 or zi == 9 or zi == 17 or zi == 35 or zi == 53) and v == 1 and q == 0))
    return OK, bt, fc, fc_set, h_out, safe


@nb.njit(cache=True)
def _ring_is_planar(xyz, ptr, nbr, ring_atoms, lo, hi, max_angle):
    """All local ring normals within ``max_angle`` degrees of each other (PLIP's planarity test)."""
    k = hi - lo
    v = np.empty((k, 3))
    for t in range(k):
        a = ring_atoms[lo + t]
        inr0 = -1
        inr1 = -1
        for q in range(ptr[a], ptr[a + 1]):
            b = nbr[q]
            member = False
            for u in range(lo, hi):
                if ring_atoms[u] == b:
                    member = True
                    break
            if member:
                if inr0 < 0:
                    inr0 = b
                elif inr1 < 0:
                    inr1 = b
        if inr1 < 0:
            return False
        p0, p1, p2 = xyz[inr0, 0] - xyz[a, 0], xyz[inr0, 1] - xyz[a, 1], xyz[inr0, 2] - xyz[a, 2]
        q0, q1, q2 = xyz[inr1, 0] - xyz[a, 0], xyz[inr1, 1] - xyz[a, 1], xyz[inr1, 2] - xyz[a, 2]
        c0 = p1 * q2 - p2 * q1
        c1 = p2 * q0 - p0 * q2
        c2 = p0 * q1 - p1 * q0
        nn = math.sqrt(c0 * c0 + c1 * c1 + c2 * c2)
        v[t, 0], v[t, 1], v[t, 2] = c0 / nn, c1 / nn, c2 / nn
    for s in range(k):
        for t in range(k):
            c = abs(v[s, 0] * v[t, 0] + v[s, 1] * v[t, 1] + v[s, 2] * v[t, 2])
            c = min(max(c, 0.0), 1.0)
            if not math.degrees(math.acos(c)) <= max_angle + 1e-9:
                return False
    return True


@nb.njit(cache=True)
def type_kernel(z, fc, nh, arom, bonds, btype, xyz, ring_ptr, ring_atoms, max_angle, width):
    """PLIP / Open Babel ligand typing on arrays.

    z, fc, nh (N,) int64 atomic number, formal charge, total H; arom (N,) bool; bonds (B, 2);
    btype (B,) RDKit bond type codes; xyz (N, 3) Å; rings: RDKit's SSSR; max_angle: PLIP's ring
    planarity tolerance (degrees); width: group width (MAX_GROUP).
    Returns ``donor, acceptor, hydrophobic (N,) bool, keep (R,) bool (aromatic or planar 5/6-ring),
    groups (G, width) int32 padded with -1, sign (G,) int8, kind (G,) int64 (:data:`GROUP_KINDS`),
    charge (N,) int8``.
    """
    n = z.shape[0]
    ptr, nbr, bidx = _csr(n, bonds)
    hdeg = np.zeros(n, np.int64)
    unsat = arom.copy()  # aromatic, or any bond that is not single
    for i in range(n):
        for t in range(ptr[i], ptr[i + 1]):
            if z[nbr[t]] > 1:
                hdeg[i] += 1
            if btype[bidx[t]] != SINGLE:
                unsat[i] = True
    # Open Babel's hybridisation rule for nitrogen (atomtyp.txt INTHYB): sp if triple bonded or
    # cumulated, sp2 if aromatic, double bonded or next to an unsaturated C/N/O or aromatic atom
    hyb_n = np.zeros(n, np.int64)
    for i in range(n):
        if z[i] != 7:
            continue
        n_double = 0
        triple = False
        pi = False
        for t in range(ptr[i], ptr[i + 1]):
            b = btype[bidx[t]]
            if b == TRIPLE:
                triple = True
            elif b == DOUBLE:
                n_double += 1
            elif b == AROMATIC:
                pi = True
        if triple or n_double >= 2:
            hyb_n[i] = 1
        elif arom[i] or n_double > 0 or pi:
            hyb_n[i] = 2
        else:
            hyb_n[i] = 3
            for t in range(ptr[i], ptr[i + 1]):
                j = nbr[t]
                if ((z[j] == 6 or z[j] == 7 or z[j] == 8) and unsat[j]) or arom[j]:
                    hyb_n[i] = 2
                    break
    # Open Babel adds hydrogens to the neutral form: a cation loses its extra H, an anion gains one
    donor = np.zeros(n, np.bool_)
    acceptor = np.zeros(n, np.bool_)
    hydrophobic = np.zeros(n, np.bool_)
    for i in range(n):
        nh0 = max(nh[i] - fc[i], 0)
        total = hdeg[i] + nh0
        donor[i] = (z[i] == 7 or z[i] == 8) and nh0 > 0
        acc_n = z[i] == 7 and not ((total == 4 and hyb_n[i] == 3) or (total == 3 and hyb_n[i] == 2))
        acceptor[i] = z[i] == 8 or acc_n or (z[i] == 16 and fc[i] == -1)
        if z[i] == 6:
            hydrophobic[i] = True
            for t in range(ptr[i], ptr[i + 1]):
                j = nbr[t]
                if z[j] != 6 and z[j] > 1:
                    hydrophobic[i] = False
    nring = ring_ptr.shape[0] - 1
    keep = np.zeros(nring, np.bool_)
    for r in range(nring):
        lo, hi = ring_ptr[r], ring_ptr[r + 1]
        if not 4 < hi - lo <= 6:
            continue
        all_arom = True
        for t in range(lo, hi):
            if not arom[ring_atoms[t]]:
                all_arom = False
                break
        keep[r] = all_arom or _ring_is_planar(xyz, ptr, nbr, ring_atoms, lo, hi, max_angle)
    # PLIP's charged functional groups on the heavy-atom graph, at most one per atom, in atom order
    members = np.full((n, 8), -1, np.int64)
    msize = np.zeros(n, np.int64)
    gsign = np.zeros(n, np.int64)
    gkind = np.zeros(n, np.int64)
    g = 0
    for i in range(n):
        zi = z[i]
        n_o = 0
        n_c = 0
        n_n = 0
        n_other = 0
        for t in range(ptr[i], ptr[i + 1]):
            zj = z[nbr[t]]
            if zj == 8:
                n_o += 1
            elif zj == 6:
                n_c += 1
            elif zj == 7:
                n_n += 1
            elif zj > 1:
                n_other += 1
        nheavy = hdeg[i]
        kind = -1
        sign = 0
        mode = 0  # 0: the atom alone, 1: atom + heavy neighbours, 2: atom + O, 3: O only, 4: heavy neighbours
        if zi == 7:
            if nheavy == 4:
                kind, sign = 0, 1
            elif hyb_n[i] == 3 and nheavy >= 3:
                kind, sign = 1, 1
        elif zi == 16:
            if nheavy == 3:
                kind, sign = 2, 1
            elif n_o == 3:
                kind, sign, mode = 3, -1, 2
            elif n_o == 4:
                kind, sign, mode = 4, -1, 1
        elif zi == 15 and nheavy > 0 and n_o == nheavy:
            kind, sign, mode = 5, -1, 1
        elif zi == 6:
            if n_o == 2 and n_c == 1:
                kind, sign, mode = 6, -1, 3
            elif n_n == 3 and nheavy == 3:
                dmin = n
                for t in range(ptr[i], ptr[i + 1]):
                    j = nbr[t]
                    if z[j] > 1:
                        dmin = min(dmin, hdeg[j])
                if dmin == 1:
                    kind, sign, mode = 7, 1, 4
        if kind < 0:
            continue
        m = 0
        if mode <= 2:
            members[g, 0] = i
            m = 1
        if mode > 0:
            for t in range(ptr[i], ptr[i + 1]):
                j = nbr[t]
                ok = z[j] > 1 if mode == 1 or mode == 4 else z[j] == 8
                if ok and m < 8:
                    members[g, m] = j
                    m += 1
        msize[g] = m
        gsign[g] = sign
        gkind[g] = kind
        g += 1
    charge = np.zeros(n, np.int8)
    for q in range(g):
        for t in range(msize[q]):
            charge[members[q, t]] = gsign[q]
    for i in range(n):
        if charge[i] == 0:
            charge[i] = min(max(fc[i], -1), 1)
    groups = np.full((g, width), -1, np.int32)
    for q in range(g):
        for t in range(min(msize[q], width)):
            groups[q, t] = members[q, t]
    return donor, acceptor, hydrophobic, keep, groups, gsign[:g].astype(np.int8), gkind[:g].copy(), charge
