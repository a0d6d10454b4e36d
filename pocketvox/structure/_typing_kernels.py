"""Numba kernel behind :func:`pocketvox.structure.typing.type_protein` (imported only when a
receptor is typed, so that importing :mod:`pocketvox.structure.typing` stays free of numba).

Strings arrive as their UTF-32 code points (``str_array.view(np.uint32)``, one row per atom), so
no string is built or compared: residue and atom names are packed into integer keys and looked
up in the sorted residue tables of :class:`pocketvox.structure.typing._ResidueTables`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

#: Tag (high bits) of the standard-residue keys sharing the residue-table hash: residue-table
#: keys use at most 56 bits (24-bit residue << 32 | 32-bit name).
STD_TAG = 1 << 58


@nb.njit(cache=True)
def _pack_row(cp, i, chars):
    """Row ``i`` of a code-point array packed 8 bits per character (first lowest); -1 when the
    string is longer than ``chars`` (<= 7) or not ASCII. No early exit: the loop stays simple
    enough for LLVM to inline and unroll."""
    v = np.int64(0)
    bad = False
    for k in range(cp.shape[1]):
        c = np.int64(cp[i, k])
        if k < chars:
            v |= c << (8 * k)
        else:
            bad |= c != 0
        bad |= c >= 128
    return np.int64(-1) if bad else v


@nb.njit(cache=True)
def _slot(key, mask):
    # unsigned arithmetic: wrapping multiplication is defined (signed overflow is not, to LLVM)
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(23)) & mask


@nb.njit(cache=True)
def build_hash(keys, values):
    """Open-addressing table (keys, values; -1 marks a free slot) for non-negative int64 keys."""
    size = 64
    while size < 4 * len(keys):
        size *= 2
    hk = np.full(size, -1, np.int64)
    hv = np.full(size, -1, np.int64)
    for u in range(len(keys)):
        h = _slot(keys[u], size - 1)
        while hk[h] != -1 and hk[h] != keys[u]:
            h = (h + 1) & (size - 1)
        hk[h] = keys[u]
        hv[h] = values[u]
    return hk, hv


@nb.njit(cache=True)
def _lookup(hk, hv, key, missing):
    """Value stored for ``key`` in a :func:`build_hash` table, ``missing`` when absent."""
    if key < 0:
        return missing
    mask = len(hk) - 1
    h = _slot(key, mask)
    while hk[h] != -1:
        if hk[h] == key:
            return hv[h]
        h = (h + 1) & mask
    return missing


@nb.njit(cache=True)
def _same_row(cp, i, j):
    for k in range(cp.shape[1]):
        if cp[i, k] != cp[j, k]:
            return False
    return True


@nb.njit(cache=True)
def type_protein_kernel(el_cp, el_up_cp, res_cp, name_cp, chain_cp, icode_cp, res_num, bonds,
                        hk, hv, n_keys, el_flags, known_t, donor_t, acceptor_t, ring_t, ring_p, group_t, group_p,
                        ring_size, group_size, k_o, k_n, k_c, k_h, k_pro, k_oxt, k_bb_n, ring_width,
                        group_width):
    """Typing flags, aromatic rings and charged groups of a receptor table.

    ``el_cp`` the element column as given, ``el_up_cp`` upper-cased; the other ``*_cp`` the text
    columns' code points. ``hk``/``hv``: :func:`build_hash` table of the residue-table keys
    ((residue << 32) | name -> table row; ``n_keys`` is the row for names not in it) and of the
    standard residues (keys tagged by :data:`STD_TAG`). ``el_flags`` (65536,) uint8 by packed
    one- or two-letter element: bit 0 metal, bit 1 halogen.
    Returns ``(donor, acceptor, hydrophobic, aromatic, metal, halogen, rings (R, ring_width),
    groups (G, group_width), group_template (G,))``.
    """
    n = el_cp.shape[0]
    mask = len(hk) - 1
    rid = np.zeros(n, np.int64)
    el_key = np.empty(n, np.int64)
    el_orig = np.empty(n, np.int64)
    res_key = np.empty(n, np.int64)
    name_key = np.empty(n, np.int64)
    row = np.empty(n, np.int64)
    std = np.zeros(n, np.bool_)
    std_cur = False
    for i in range(n):
        # residue runs: changes of chain, number, insertion code or name between consecutive rows
        if i == 0:
            new_res = True
        else:
            new_res = not (res_num[i] == res_num[i - 1] and _same_row(chain_cp, i, i - 1)
                           and _same_row(icode_cp, i, i - 1) and _same_row(res_cp, i, i - 1))
            rid[i] = rid[i - 1] + (1 if new_res else 0)
        el_key[i] = _pack_row(el_up_cp, i, 4)
        el_orig[i] = _pack_row(el_cp, i, 4)
        rk = _pack_row(res_cp, i, 3)
        nm = _pack_row(name_cp, i, 4)
        res_key[i] = rk
        name_key[i] = nm
        if new_res:  # the residue name is constant within a run
            std_cur = rk >= 0 and _lookup(hk, hv, rk | STD_TAG, -1) >= 0
        std[i] = std_cur
        r = n_keys
        if rk >= 0 and nm >= 0:
            key = (rk << 32) | nm
            h = _slot(key, mask)
            while hk[h] != -1:
                if hk[h] == key:
                    r = hv[h]
                    break
                h = (h + 1) & mask
        row[i] = r
    # heavy-atom degree and non-carbon neighbours from the bond graph (element as given)
    hdeg = np.zeros(n, np.int64)
    nonc_nb = np.zeros(n, np.bool_)
    for b in range(bonds.shape[0]):
        i = bonds[b, 0]
        j = bonds[b, 1]
        hj = el_orig[j] != k_h
        hi = el_orig[i] != k_h
        hdeg[i] += hj
        hdeg[j] += hi
        nonc_nb[i] |= hj & (el_orig[j] != k_c)
        nonc_nb[j] |= hi & (el_orig[i] != k_c)
    donor = np.zeros(n, np.bool_)
    acceptor = np.zeros(n, np.bool_)
    hydrophobic = np.zeros(n, np.bool_)
    metal = np.zeros(n, np.bool_)
    halogen = np.zeros(n, np.bool_)
    for i in range(n):
        ek = el_key[i]
        is_o = ek == k_o
        is_n = ek == k_n
        # element defaults first (unknown residues), then the residue table
        d = (is_o and hdeg[i] <= 1) or (is_n and hdeg[i] <= 2)
        a = is_o or (is_n and hdeg[i] <= 2)
        r = row[i]
        if known_t[r]:
            d = donor_t[r]
            a = acceptor_t[r]
        elif std[i]:
            # standard residues: side-chain atoms not in the table are non-polar C or carbonyl O
            bb_n = name_key[i] == k_bb_n
            terminal_n = bb_n and hdeg[i] <= 1
            d = (bb_n and (res_key[i] != k_pro or terminal_n)) or (is_o and name_key[i] == k_oxt)
            a = is_o or terminal_n
        hydrophobic[i] = ek == k_c and not nonc_nb[i]
        f = el_flags[ek] if 0 <= ek < 65536 else 0
        metal[i] = (f & 1) != 0
        halogen[i] = (f & 2) != 0
        donor[i] = d and not metal[i]
        acceptor[i] = a and not metal[i]
    rings, _ = _template_sets(rid, row, ring_t, ring_p, ring_size, True, ring_width)
    aromatic = np.zeros(n, np.bool_)
    for r in range(rings.shape[0]):
        for k in range(rings.shape[1]):
            if rings[r, k] >= 0:
                aromatic[rings[r, k]] = True
    groups, gt = _template_sets(rid, row, group_t, group_p, group_size, False, group_width)
    return donor, acceptor, hydrophobic, aromatic, metal, halogen, rings, groups, gt


@nb.njit(cache=True)
def _template_sets(rid, row, hit_t, hit_p, sizes, complete, width):
    """Per residue and template, the rows of the atoms it names (in template order).

    ``hit_t``/``hit_p`` (keys + 1, H): template id and position of each table row's slots (-1
    none). Sets are ordered by residue, then template; with ``complete`` only sets with every
    named atom present are kept (rings), else any non-empty set, present members first.
    Within a residue, slot 0 hits are placed before slot 1 hits and later atoms overwrite
    earlier ones (as NumPy's fancy assignment did).
    """
    n = len(rid)
    n_t = len(sizes)
    tw = 0
    for t in range(n_t):
        tw = max(tw, sizes[t])
    # atoms named by some template (few: aromatic and charged side chains)
    hits = np.empty(n, np.int64)
    nh = 0
    for i in range(n):
        if hit_t[row[i], 0] >= 0:
            hits[nh] = i
            nh += 1
    # each set has a member slot, so there are at most nh * slots of them (allocated once: an
    # array rebound inside the loops slows numba's code down several-fold)
    cap = max(nh * hit_t.shape[1], 1)
    out = np.full((cap, width), -1, np.int32)
    out_t = np.empty(cap, np.int64)
    m = 0
    members = np.full((n_t, tw), -1, np.int64)
    touched = np.zeros(n_t, np.bool_)
    start = 0
    while start < nh:
        end = start + 1
        while end < nh and rid[hits[end]] == rid[hits[start]]:
            end += 1
        for h in range(hit_t.shape[1]):
            for q in range(start, end):
                i = hits[q]
                t = hit_t[row[i], h]
                if t >= 0:
                    members[t, hit_p[row[i], h]] = i
                    touched[t] = True
        for t in range(n_t):
            if not touched[t]:
                continue
            cnt = 0
            for k in range(tw):
                if members[t, k] >= 0:
                    cnt += 1
            if (complete and cnt == sizes[t]) or (not complete and cnt > 0):
                q = 0
                for k in range(tw):
                    if members[t, k] >= 0:
                        out[m, q if not complete else k] = members[t, k]
                        q += 1
                out_t[m] = t
                m += 1
            for k in range(tw):
                members[t, k] = -1
            touched[t] = False
        start = end
    return out[:m].copy(), out_t[:m].copy()
