"""Numba kernel behind :func:`pocketvox.structure.typing.type_protein` (imported only when a
receptor is typed, so that importing :mod:`pocketvox.structure.typing` stays free of numba).

Strings arrive as their UTF-32 code points (``str_array.view(np.uint32)``, one row per atom), so
no string is built or compared: residue and atom names are packed into integer keys and looked
up in the sorted residue tables of :class:`pocketvox.structure.typing._ResidueTables`.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, inline="always")
def _pack_row(cp, i, chars):
    """Row ``i`` of a code-point array packed 8 bits per character (first lowest); -1 when the
    string is longer than ``chars`` or not ASCII."""
    v = np.int64(0)
    for k in range(cp.shape[1]):
        c = np.int64(cp[i, k])
        if c == 0:
            break
        if c >= 128 or k >= chars:
            return np.int64(-1)
        v |= c << (8 * k)
    return v


@nb.njit(cache=True, inline="always")
def _find(sorted_keys, key):
    """Index of ``key`` in ``sorted_keys``, or len(sorted_keys) when absent."""
    n = len(sorted_keys)
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < n and sorted_keys[lo] == key:
        return lo
    return n


@nb.njit(cache=True, inline="always")
def _same_row(cp, i, j):
    for k in range(cp.shape[1]):
        if cp[i, k] != cp[j, k]:
            return False
    return True


@nb.njit(cache=True)
def type_protein_kernel(el_cp, el_up_cp, res_cp, name_cp, chain_cp, icode_cp, res_num, bonds,
                        keys, known_t, donor_t, acceptor_t, ring_t, ring_p, group_t, group_p,
                        ring_size, group_size, std_keys, metal_keys, halogen_keys,
                        k_o, k_n, k_c, k_h, k_pro, k_oxt, k_bb_n, ring_width, group_width):
    """Typing flags, aromatic rings and charged groups of a receptor table.

    ``el_cp`` the element column as given, ``el_up_cp`` upper-cased; the other ``*_cp`` the text
    columns' code points. Returns ``(donor, acceptor, hydrophobic, aromatic, metal, halogen,
    charge, rings (R, ring_width), groups (G, group_width), group_template (G,))``.
    """
    n = el_cp.shape[0]
    # residue runs: changes of chain, number, insertion code or name between consecutive rows
    rid = np.zeros(n, np.int64)
    for i in range(1, n):
        same = (res_num[i] == res_num[i - 1] and _same_row(chain_cp, i, i - 1) and _same_row(icode_cp, i, i - 1)
                and _same_row(res_cp, i, i - 1))
        rid[i] = rid[i - 1] + (0 if same else 1)
    el_key = np.empty(n, np.int64)
    el_orig = np.empty(n, np.int64)
    res_key = np.empty(n, np.int64)
    row = np.empty(n, np.int64)
    for i in range(n):
        el_key[i] = _pack_row(el_up_cp, i, 4)
        el_orig[i] = _pack_row(el_cp, i, 4)
        res_key[i] = _pack_row(res_cp, i, 3)
        nm = _pack_row(name_cp, i, 4)
        row[i] = _find(keys, (res_key[i] << 32) | nm) if res_key[i] >= 0 and nm >= 0 else len(keys)
    # heavy-atom degree and non-carbon neighbours from the bond graph (element as given)
    hdeg = np.zeros(n, np.int64)
    nonc_nb = np.zeros(n, np.bool_)
    for b in range(bonds.shape[0]):
        i = bonds[b, 0]
        j = bonds[b, 1]
        if el_orig[j] != k_h:
            hdeg[i] += 1
        if el_orig[i] != k_h:
            hdeg[j] += 1
        if el_orig[j] != k_c and el_orig[j] != k_h:
            nonc_nb[i] = True
        if el_orig[i] != k_c and el_orig[i] != k_h:
            nonc_nb[j] = True
    donor = np.zeros(n, np.bool_)
    acceptor = np.zeros(n, np.bool_)
    hydrophobic = np.zeros(n, np.bool_)
    metal = np.zeros(n, np.bool_)
    halogen = np.zeros(n, np.bool_)
    for i in range(n):
        is_o = el_key[i] == k_o
        is_n = el_key[i] == k_n
        # element defaults first (unknown residues), then the residue table
        d = (is_o and hdeg[i] <= 1) or (is_n and hdeg[i] <= 2)
        a = is_o or (is_n and hdeg[i] <= 2)
        r = row[i]
        known = known_t[r]
        if known:
            d = donor_t[r]
            a = acceptor_t[r]
        elif res_key[i] >= 0 and _find(std_keys, res_key[i]) < len(std_keys):
            # standard residues: side-chain atoms not in the table are non-polar C or carbonyl O
            nm = _pack_row(name_cp, i, 4)
            bb_n = nm == k_bb_n
            terminal_n = bb_n and hdeg[i] <= 1
            d = (bb_n and (res_key[i] != k_pro or terminal_n)) or (is_o and nm == k_oxt)
            a = is_o or terminal_n
        hydrophobic[i] = el_key[i] == k_c and not nonc_nb[i]
        metal[i] = el_key[i] >= 0 and _find(metal_keys, el_key[i]) < len(metal_keys)
        halogen[i] = el_key[i] >= 0 and _find(halogen_keys, el_key[i]) < len(halogen_keys)
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
    cap = 16
    out = np.full((cap, width), -1, np.int32)
    out_t = np.empty(cap, np.int64)
    m = 0
    members = np.full((n_t, tw), -1, np.int64)
    touched = np.zeros(n_t, np.bool_)
    start = 0
    while start < n:
        end = start + 1
        while end < n and rid[end] == rid[start]:
            end += 1
        any_hit = False
        for h in range(hit_t.shape[1]):
            for i in range(start, end):
                t = hit_t[row[i], h]
                if t >= 0:
                    members[t, hit_p[row[i], h]] = i
                    touched[t] = True
                    any_hit = True
        if any_hit:
            for t in range(n_t):
                if not touched[t]:
                    continue
                cnt = 0
                for k in range(tw):
                    if members[t, k] >= 0:
                        cnt += 1
                if (complete and cnt == sizes[t]) or (not complete and cnt > 0):
                    if m == cap:
                        cap *= 2
                        grown = np.full((cap, width), -1, np.int32)
                        grown[:m] = out[:m]
                        out = grown
                        grown_t = np.empty(cap, np.int64)
                        grown_t[:m] = out_t[:m]
                        out_t = grown_t
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
