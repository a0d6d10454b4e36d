"""Numba kernels behind :mod:`pocketvox.structure.io` (imported only when a PDB file is parsed or a
structure is cleaned, so that ``import pocketvox.structure.io`` stays free of numba).

* :func:`scan_pdb`: one pass over a PDB file's bytes: ATOM/HETATM/MODEL/CONECT lines, coordinates,
  serials, residue numbers, occupancies, and the fixed-width text fields packed into integers
  (stripped bytes, little-endian) and interned to small ids. Anything the fast path does not
  recognise (signs other than '-', exponents, control or non-ASCII bytes in text fields, short
  records, a missing model) returns a non-zero status and the caller falls back on the NumPy
  parser, which then produces the exact values or error message.
* :func:`clean_rows`: alternate-location choice and duplicate-site removal over residue runs.
* :func:`bond_pairs`: covalent bonds from distances on a cell grid (the same tests, in the same
  floating-point order, as the KD-tree version they replace).
* :func:`linked_residues`, :func:`near_residues`: peptide/phosphodiester links of hetero residues
  and binding-site residue selection.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_POW10 = np.array([10.0**k for k in range(19)])

_ATOM = 0x4D4F5441  # b"ATOM" read little-endian
_HETA = 0x41544548  # b"HETA"
_MODE = 0x45444F4D  # b"MODE"
_CONE = 0x454E4F43  # b"CONE"


@nb.njit(cache=True)
def _byte(buf, s, L, c):
    """Byte at column ``c`` of the line starting at ``s`` with length ``L`` (space past its end)."""
    return buf[s + c] if c < L else np.uint8(32)


@nb.njit(cache=True)
def _head4(buf, s):
    v = 0
    n = len(buf)
    for k in range(4):
        b = buf[s + k] if s + k < n else 32
        v |= np.int64(b) << (8 * k)
    return v


@nb.njit(cache=True)
def _parse_float(buf, s, L, a, b):
    """Fixed-width decimal in columns [a, b): (value, ok). Accepts blanks around
    ``[-+]digits[.digits]``; the value is mantissa / 10**k, i.e. correctly rounded like strtod."""
    i = a
    while i < b and _byte(buf, s, L, i) == 32:
        i += 1
    neg = False
    if i < b and (_byte(buf, s, L, i) == 45 or _byte(buf, s, L, i) == 43):
        neg = _byte(buf, s, L, i) == 45
        i += 1
    mant = 0
    nd = 0
    frac = 0
    seen_dot = False
    while i < b:
        c = _byte(buf, s, L, i)
        if 48 <= c <= 57:
            mant = mant * 10 + (c - 48)
            nd += 1
            if seen_dot:
                frac += 1
        elif c == 46 and not seen_dot:
            seen_dot = True
        else:
            break
        i += 1
    while i < b and _byte(buf, s, L, i) == 32:
        i += 1
    if i != b or nd == 0 or nd > 15:
        return 0.0, False
    v = mant / _POW10[frac]
    return (-v if neg else v), True


@nb.njit(cache=True)
def _parse_int(buf, s, L, a, b):
    """Fixed-width integer in columns [a, b): (value, ok, blank)."""
    i = a
    while i < b and _byte(buf, s, L, i) == 32:
        i += 1
    if i == b:
        return 0, False, True
    neg = False
    if _byte(buf, s, L, i) == 45:
        neg = True
        i += 1
    v = 0
    nd = 0
    while i < b:
        c = _byte(buf, s, L, i)
        if 48 <= c <= 57:
            v = v * 10 + (c - 48)
            nd += 1
        else:
            break
        i += 1
    while i < b and _byte(buf, s, L, i) == 32:
        i += 1
    if i != b or nd == 0:
        return 0, False, False
    return (-v if neg else v), True, False


@nb.njit(cache=True)
def _pack(buf, s, L, a, b, upper):
    """Columns [a, b) with blanks stripped, packed little-endian into an int (0 when blank)."""
    lo = a
    hi = b
    while lo < hi and _byte(buf, s, L, lo) == 32:
        lo += 1
    while hi > lo and _byte(buf, s, L, hi - 1) == 32:
        hi -= 1
    v = 0
    for k in range(lo, hi):
        c = np.int64(_byte(buf, s, L, k))
        if upper and 97 <= c <= 122:
            c -= 32
        v |= c << (8 * (k - lo))
    return v


@nb.njit(cache=True)
def _intern(vals):
    """Ids in first-seen order for an int64 array, and the distinct values (open addressing)."""
    n = len(vals)
    size = 64
    while size < 2 * n and size < (1 << 22):
        size *= 2
    keys = np.empty(size, np.int64)
    slot_id = np.full(size, -1, np.int32)
    ids = np.empty(n, np.int32)
    uniq = np.empty(n, np.int64)
    nu = 0
    mask = size - 1
    for r in range(n):
        v = vals[r]
        # unsigned arithmetic: wrapping multiplication is defined (signed overflow is not, to LLVM)
        h = np.int64((np.uint64(v) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(17)) & mask
        while True:
            sid = slot_id[h]
            if sid < 0:
                slot_id[h] = nu
                keys[h] = v
                uniq[nu] = v
                ids[r] = nu
                nu += 1
                break
            if keys[h] == v:
                ids[r] = sid
                break
            h = (h + 1) & mask
    return ids, uniq[:nu]


@nb.njit(cache=True)
def _newlines(buf, words):
    """Positions of every newline byte; ``words`` is ``buf`` viewed as uint64 (whole words only):
    a word without a newline is skipped in one test (SWAR zero-byte trick)."""
    n = len(buf)
    out = np.empty(n // 2 + 2, np.int64)
    k = 0
    ones = np.uint64(0x0101010101010101)
    highs = np.uint64(0x8080808080808080)
    nls = np.uint64(0x0A0A0A0A0A0A0A0A)
    nw = len(words)
    for w in range(nw):
        x = words[w] ^ nls
        if (x - ones) & ~x & highs:
            for q in range(w * 8, w * 8 + 8):
                if buf[q] == 10:
                    out[k] = q
                    k += 1
    for q in range(nw * 8, n):
        if buf[q] == 10:
            out[k] = q
            k += 1
    return out[:k]


@nb.njit(cache=True, inline="always")
def _int_fixed(buf, p, w):
    """The ``w`` bytes at ``p`` as a right-justified integer ([blanks][-]digits), read without
    branches (fields of varying width would defeat branch prediction): (value, ok)."""
    v = np.int64(0)
    ok = True
    prev = np.int64(0)
    minus = np.int64(0)
    last_digit = False
    for k in range(w):
        c = np.int64(buf[p + k])
        d = c - 48
        g = (d >= 0) & (d <= 9)
        mi = c == 45
        cls = 2 * np.int64(g) + np.int64(mi)  # blank 0 < minus 1 < digit 2, never decreasing
        ok &= (g | mi | (c == 32)) & (cls >= prev)
        prev = cls
        minus += np.int64(mi)
        G = np.int64(g)
        v = v * (1 + 9 * G) + d * G
        last_digit = g
    ok &= last_digit & (minus <= 1)
    return v * (1 - 2 * minus), ok


@nb.njit(cache=True, inline="always")
def _int4(buf, p):
    """The 4 bytes at ``p`` as a right-justified integer ([blanks][-]digits), read without branches
    (fields of varying width would defeat branch prediction): (magnitude, negative, ok)."""
    c0 = np.int64(buf[p])
    c1 = np.int64(buf[p + 1])
    c2 = np.int64(buf[p + 2])
    d0 = c0 - 48
    d1 = c1 - 48
    d2 = c2 - 48
    d3 = np.int64(buf[p + 3]) - 48
    g0 = (d0 >= 0) & (d0 <= 9)
    g1 = (d1 >= 0) & (d1 <= 9)
    g2 = (d2 >= 0) & (d2 <= 9)
    m0 = c0 == 45
    m1 = c1 == 45
    m2 = c2 == 45
    # byte classes blank 0 < minus 1 < digit 2 must not decrease; one minus at most
    k0 = 2 * np.int64(g0) + np.int64(m0)
    k1 = 2 * np.int64(g1) + np.int64(m1)
    k2 = 2 * np.int64(g2) + np.int64(m2)
    ok = ((g0 | m0 | (c0 == 32)) & (g1 | m1 | (c1 == 32)) & (g2 | m2 | (c2 == 32)) & (d3 >= 0) & (d3 <= 9)
          & (k0 <= k1) & (k1 <= k2) & ~(m0 & m1) & ~(m1 & m2))
    G1 = np.int64(g1)
    G2 = np.int64(g2)
    v = d0 * np.int64(g0)
    v = v * (1 + 9 * G1) + d1 * G1
    v = v * (1 + 9 * G2) + d2 * G2
    return v * 10 + d3, m0 | m1 | m2, ok


@nb.njit(cache=True, inline="always")
def _coord(buf, p):
    """The 8 bytes at ``p`` as a float in the usual ``%8.3f`` layout ([blanks][-]digits.ddd), read
    without branches: (value, ok). When not ok the caller reparses with :func:`_parse_float` (the
    same value, mantissa / 1000 correctly rounded, for this layout) outside its hot loop."""
    ip, neg, ok = _int4(buf, p)
    f5 = np.int64(buf[p + 5]) - 48
    f6 = np.int64(buf[p + 6]) - 48
    f7 = np.int64(buf[p + 7]) - 48
    ok = ok & (buf[p + 4] == 46) & (f5 >= 0) & (f5 <= 9) & (f6 >= 0) & (f6 <= 9) & (f7 >= 0) & (f7 <= 9)
    v = (ip * 1000 + (f5 * 10 + f6) * 10 + f7) / 1000.0
    return v * (1 - 2 * np.int64(neg)), ok


@nb.njit(cache=True)
def _strip_vocab(raw, nbytes, upper):
    """Distinct raw fixed-width values (``nbytes`` bytes packed little-endian) -> their stripped
    packed values, and ok=False when a byte is not printable ASCII (the NumPy path decodes it)."""
    out = np.empty(len(raw), np.int64)
    for u in range(len(raw)):
        v = raw[u]
        lo = 0
        hi = nbytes
        for q in range(nbytes):
            c = (v >> (8 * q)) & 0xFF
            if c < 32 or c > 126:
                return out, False
        while lo < hi and ((v >> (8 * lo)) & 0xFF) == 32:
            lo += 1
        while hi > lo and ((v >> (8 * (hi - 1))) & 0xFF) == 32:
            hi -= 1
        x = 0
        for q in range(lo, hi):
            c = (v >> (8 * q)) & 0xFF
            if upper and 97 <= c <= 122:
                c -= 32
            x |= c << (8 * (q - lo))
        out[u] = x
    return out, True


@nb.njit(cache=True)
def _recode(ids, raw, nbytes, upper):
    """Ids of raw values -> ids of their stripped values (distinct raw values can strip alike)."""
    stripped, ok = _strip_vocab(raw, nbytes, upper)
    if not ok:
        return ids, stripped, False
    new_of_raw, vals = _intern(stripped)
    return new_of_raw[ids], vals, True


@nb.njit(cache=True)
def scan_pdb(buf, words, want_model):
    """Parse the ATOM/HETATM records of one model (``want_model`` 1-based; -1: every model).

    ``words``: ``buf`` viewed as uint64 (its whole words). Returns ``(status, hetero, coords (N, 3),
    res_num, serial, occupancy, model, altloc, chain, icode, name_id, name_vals, res_id, res_vals,
    el_id, el_vals, el_missing, starts, conect, wide_res)``; status 0 means every field was read,
    anything else asks for the NumPy parser.
    """
    n = len(buf)
    nl = _newlines(buf, words)
    n_lines = len(nl) + 1
    a_start = np.empty(n_lines, np.int64)
    a_len = np.empty(n_lines, np.int64)
    a_model = np.zeros(n_lines, np.int32)
    c_start = np.empty(n_lines, np.int64)
    c_len = np.empty(n_lines, np.int64)
    na = 0
    nc = 0
    n_model_lines = 0
    for q in range(n_lines):
        s = nl[q - 1] + 1 if q > 0 else 0
        e = nl[q] if q < len(nl) else n
        L = e - s
        if L > 0 and buf[e - 1] == 13:
            L -= 1
        h = _head4(buf, s)
        if h == _ATOM or h == _HETA:
            a_start[na] = s
            a_len[na] = L
            a_model[na] = max(n_model_lines - 1, 0)
            na += 1
        elif h == _MODE:
            n_model_lines += 1
        elif h == _CONE:
            c_start[nc] = s
            c_len[nc] = L
            nc += 1
    # --- which rows: one model of a multi-model file
    rows = np.arange(na)
    if want_model >= 1 and n_model_lines > 1:
        rows = np.flatnonzero(a_model[:na] == want_model - 1)
    nk = len(rows)
    if nk == 0:
        return _fail()
    # --- fixed-width fields; text columns as raw bytes, stripped per distinct value afterwards
    hetero = np.empty(nk, np.bool_)
    coords = np.empty((nk, 3), np.float64)
    res_num = np.empty(nk, np.int32)
    model = np.zeros(nk, np.int32)
    altloc = np.empty(nk, np.uint8)
    chain = np.empty(nk, np.uint8)
    icode = np.empty(nk, np.uint8)
    name_raw = np.empty(nk, np.int64)
    res_raw = np.empty(nk, np.int64)
    el_raw = np.empty(nk, np.int64)
    starts = np.empty(nk, np.int64)
    lengths = np.empty(nk, np.int64)
    any_alt = False
    wide_res = False
    all_fast = True
    short = False
    for k in range(nk):
        r = rows[k]
        s = a_start[r]
        L = a_len[r]
        short |= L < 54
        if short:
            break
        starts[k] = s
        lengths[k] = L
        hetero[k] = buf[s] == 72
        x, okx = _coord(buf, s + 30)
        y, oky = _coord(buf, s + 38)
        z, okz = _coord(buf, s + 46)
        coords[k, 0] = x
        coords[k, 1] = y
        coords[k, 2] = z
        rn, neg, okr = _int4(buf, s + 22)
        res_num[k] = rn * (1 - 2 * np.int64(neg))
        all_fast &= okx & oky & okz & okr
        model[k] = a_model[r]
        altloc[k] = buf[s + 16]
        any_alt |= buf[s + 16] != 32
        chain[k] = buf[s + 21]
        icode[k] = buf[s + 26]
        wide_res |= buf[s + 20] != 32
        name_raw[k] = (np.int64(buf[s + 12]) | (np.int64(buf[s + 13]) << 8) | (np.int64(buf[s + 14]) << 16)
                       | (np.int64(buf[s + 15]) << 24))
        res_raw[k] = (np.int64(buf[s + 17]) | (np.int64(buf[s + 18]) << 8) | (np.int64(buf[s + 19]) << 16)
                      | (np.int64(buf[s + 20]) << 24))
        el_raw[k] = np.int64(_byte(buf, s, L, 76)) | (np.int64(_byte(buf, s, L, 77)) << 8)
    if short:
        return _fail()
    if not all_fast:  # numbers in another layout: the general parsers
        for k in range(nk):
            for d in range(3):
                v, ok = _parse_float(buf, starts[k], lengths[k], 30 + 8 * d, 38 + 8 * d)
                if not ok:
                    return _fail()
                coords[k, d] = v
            iv, ok, _ = _parse_int(buf, starts[k], lengths[k], 22, 26)
            if not ok:
                return _fail()
            res_num[k] = iv
    # occupancies only decide between alternate locations
    occ = np.ones(nk, np.float64)
    if any_alt:
        for k in range(nk):
            s = starts[k]
            L = lengths[k]
            fv, ok = _parse_float(buf, s, L, 54, 60)
            if ok:
                occ[k] = fv
            else:
                for c in range(54, 60):
                    if _byte(buf, s, L, c) != 32:
                        return _fail()
    # --- CONECT: (atom, partner) serial pairs, blank fields skipped; serials only matter then
    serial = np.arange(1, nk + 1).astype(np.int32)
    conect = np.empty((4 * nc, 2), np.int64)
    m = 0
    f = np.empty(5, np.int64)
    for q in range(nc):
        s = c_start[q]
        L = c_len[q]
        for t in range(5):
            v, ok, blank = _parse_int(buf, s, L, 6 + 5 * t, 11 + 5 * t)
            if blank:
                f[t] = -1
            elif not ok or v < 0:
                return _fail()
            else:
                f[t] = v
        for t in range(1, 5):
            if f[0] >= 0 and f[t] >= 0:
                conect[m, 0] = f[0]
                conect[m, 1] = f[t]
                m += 1
    if nc > 0:
        all_fast = True
        for k in range(nk):
            iv, ok = _int_fixed(buf, starts[k] + 6, 5)
            serial[k] = iv
            all_fast &= ok
        if not all_fast:  # serials in another layout: the general parser
            for k in range(nk):
                iv, ok, _ = _parse_int(buf, starts[k], lengths[k], 6, 11)
                if not ok:
                    return _fail()
                serial[k] = iv
    ids, raw = _intern(name_raw)
    name_id, name_vals, ok1 = _recode(ids, raw, 4, False)
    ids, raw = _intern(res_raw)
    res_id, res_vals, ok2 = _recode(ids, raw, 4 if wide_res else 3, False)
    ids, raw = _intern(el_raw)
    el_id, el_vals, ok3 = _recode(ids, raw, 2, True)
    if not (ok1 and ok2 and ok3):
        return _fail()
    el_missing = el_vals[el_id] == 0
    return (0, hetero, coords, res_num, serial, occ, model, altloc, chain, icode, name_id, name_vals,
            res_id, res_vals, el_id, el_vals, el_missing, starts, conect[:m], wide_res)


@nb.njit(cache=True)
def _fail():
    z8 = np.zeros(0, np.uint8)
    zi = np.zeros(0, np.int32)
    zl = np.zeros(0, np.int64)
    return (1, np.zeros(0, np.bool_), np.zeros((0, 3)), zi, zi, np.zeros(0), zi, z8, z8, z8, zi, zl,
            zi, zl, zi, zl, np.zeros(0, np.bool_), zl, np.zeros((0, 2), np.int64), False)


# ------------------------------------------------------------------------------------- cleaning
@nb.njit(cache=True)
def _block_sum(a, lo, n):
    """NumPy's summation of at most 128 contiguous float64 values (8 interleaved accumulators)."""
    if n < 8:
        r = 0.0
        for i in range(n):
            r += a[lo + i]
        return r
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    i = 8
    m = n - (n % 8)
    while i < m:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    r = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        r += a[lo + i]
        i += 1
    return r


@nb.njit(cache=True)
def _pairwise_sum(a, n):
    """NumPy's pairwise summation (``np.add.reduce`` of a contiguous float64 array), reproduced
    so that mean occupancies compare exactly as ``ndarray.mean`` would. NumPy recurses (halves
    rounded down to multiples of 8) above 128 values; recursion here is an explicit stack, since
    recursive functions do not survive numba's on-disk cache."""
    if n <= 128:
        return _block_sum(a, 0, n)
    f_lo = np.empty(64, np.int64)
    f_n = np.empty(64, np.int64)
    f_stage = np.zeros(64, np.int64)
    f_left = np.zeros(64)
    f_lo[0] = 0
    f_n[0] = n
    top = 0
    result = 0.0
    while top >= 0:
        lo = f_lo[top]
        cnt = f_n[top]
        n2 = cnt // 2
        n2 -= n2 % 8
        if cnt <= 128 or f_stage[top] == 2:
            val = _block_sum(a, lo, cnt) if cnt <= 128 else f_left[top]
            top -= 1
            if top < 0:
                result = val
            elif f_stage[top] == 1:
                f_left[top] = val
            else:
                f_left[top] = f_left[top] + val
            continue
        if f_stage[top] == 0:
            f_stage[top] = 1
            f_lo[top + 1] = lo
            f_n[top + 1] = n2
        else:
            f_stage[top] = 2
            f_lo[top + 1] = lo + n2
            f_n[top + 1] = cnt - n2
        f_stage[top + 1] = 0
        top += 1
    return result


@nb.njit(cache=True)
def clean_rows(rows, chain, res_num, icode, res_name, altloc, blank_alt, occ, name):
    """Rows kept out of ``rows`` (indices into the per-atom arrays): per residue run (chain, number,
    insertion code) the alternate location with the highest mean occupancy (first seen on ties)
    plus atoms without one; then, per run of (chain, number, icode, residue name), the first of
    any duplicated atom name. Returns the kept indices, in order, and their residue index (runs
    of chain, number, insertion code and residue name, as ``io._residue_index`` counts them)."""
    n = len(rows)
    keep = np.ones(n, np.bool_)
    start = 0
    buf = np.empty(n, np.float64)
    seen = np.empty(n, np.int64)
    while start < n:
        a = rows[start]
        end = start + 1
        while end < n:
            b = rows[end]
            if chain[b] != chain[a] or res_num[b] != res_num[a] or icode[b] != icode[a]:
                break
            end += 1
            a = b
        # distinct altlocs of the run, first-seen order
        best = -1
        best_mean = 0.0
        n_seen = 0
        for k in range(start, end):
            loc = altloc[rows[k]]
            if loc == blank_alt:
                continue
            new = True
            for x in range(n_seen):
                if seen[x] == loc:
                    new = False
            if not new:
                continue
            seen[n_seen] = loc
            n_seen += 1
            cnt = 0
            for q in range(k, end):
                if altloc[rows[q]] == loc:
                    buf[cnt] = occ[rows[q]]
                    cnt += 1
            mean = _pairwise_sum(buf, cnt) / cnt
            if best < 0 or mean > best_mean:
                best = loc
                best_mean = mean
        if best >= 0:
            for k in range(start, end):
                loc = altloc[rows[k]]
                if loc != blank_alt and loc != best:
                    keep[k] = False
        start = end
    kept = rows[keep]
    # duplicated names within a residue run: keep the first
    n = len(kept)
    keep = np.ones(n, np.bool_)
    run = np.empty(n, np.int64)
    r = -1
    start = 0
    while start < n:
        a = kept[start]
        end = start + 1
        while end < n:
            b = kept[end]
            if (chain[b] != chain[a] or res_num[b] != res_num[a] or icode[b] != icode[a]
                    or res_name[b] != res_name[a]):
                break
            end += 1
            a = b
        r += 1
        run[start] = r
        for k in range(start + 1, end):
            run[k] = r
            nk = name[kept[k]]
            for q in range(start, k):
                if keep[q] and name[kept[q]] == nk:
                    keep[k] = False
                    break
        start = end
    # dropping later duplicates removes no run, so the run numbers stay the residue index
    return kept[keep], run[keep]


# ---------------------------------------------------------------------------------------- geometry
@nb.njit(cache=True)
def _grid(coords, idx, cell):
    """Atoms ``idx`` sorted into a grid of cells at least ``cell`` Å wide: (order, cell start offsets,
    lower corner, dims, cell size)."""
    m = len(idx)
    lo = np.empty(3)
    hi = np.empty(3)
    for d in range(3):
        lo[d] = np.inf
        hi[d] = -np.inf
    for k in range(m):
        for d in range(3):
            v = coords[idx[k], d]
            lo[d] = min(lo[d], v)
            hi[d] = max(hi[d], v)
    dims = np.ones(3, np.int64)
    cell *= 1.000001  # pairs exactly ``cell`` apart stay in neighbouring cells despite rounding
    # far-flung coordinates: coarser cells (still >= the cutoff) keep the grid small
    while True:
        for d in range(3):
            dims[d] = max(int((hi[d] - lo[d]) / cell) + 1, 1) if m else 1
        ncell = dims[0] * dims[1] * dims[2]
        if ncell <= 8 * m + 64:
            break
        cell *= 2.0
    cid = np.empty(m, np.int64)
    counts = np.zeros(ncell + 1, np.int64)
    for k in range(m):
        i = idx[k]
        cx = min(int((coords[i, 0] - lo[0]) / cell), dims[0] - 1)
        cy = min(int((coords[i, 1] - lo[1]) / cell), dims[1] - 1)
        cz = min(int((coords[i, 2] - lo[2]) / cell), dims[2] - 1)
        c = (cx * dims[1] + cy) * dims[2] + cz
        cid[k] = c
        counts[c + 1] += 1
    for c in range(ncell):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    order = np.empty(m, np.int64)
    for k in range(m):
        c = cid[k]
        order[fill[c]] = idx[k]
        fill[c] += 1
    return order, counts, lo, dims, cell


@nb.njit(cache=True)
def _padded_grid(coords, idx, cell):
    """Like :func:`_grid`, with a border of empty cells around the occupied ones (so that a
    cell's neighbours never fall outside): (order, cell start offsets, dims incl. border)."""
    order, counts, lo, dims, cell = _grid(coords, idx, cell)
    pd = dims + 2
    nc = pd[0] * pd[1] * pd[2]
    pcounts = np.zeros(nc + 1, np.int64)
    for x in range(dims[0]):
        for y in range(dims[1]):
            for z in range(dims[2]):
                c = (x * dims[1] + y) * dims[2] + z
                pc = ((x + 1) * pd[1] + y + 1) * pd[2] + z + 1
                pcounts[pc + 1] = counts[c + 1] - counts[c]
    for c in range(nc):
        pcounts[c + 1] += pcounts[c]
    return order, pcounts, pd


@nb.njit(cache=True)
def bond_pairs(coords, radii, tol, min_bond, cap):
    """(M, 2) int64 pairs i < j, sorted, with ``min_bond < d <= r_i + r_j + tol`` among atoms with
    ``radii > 0``; ``d`` evaluated as ``np.linalg.norm`` does (sqrt((dx² + dy²) + dz²)), so the
    decisions match a KD-tree search followed by that test exactly.

    Cell grid walked cell by cell: each pair of atoms is visited once (pairs within a cell, then
    with the 13 cells forward of it); coordinates are copied in cell order so that a cell's
    atoms are contiguous. Returns ``(pairs, count)``; when count > ``cap`` (the room for pairs,
    fixed so that no array is reallocated inside the loops) pairs is empty: call again with
    ``cap=count``."""
    idx = np.flatnonzero(radii > 0)
    n = len(radii)
    if len(idx) < 2:
        return np.zeros((0, 2), np.int64), 0
    r_max = 0.0
    for i in idx:
        r_max = max(r_max, radii[i])
    cutoff = 2 * r_max + tol  # no pair of the atoms present bonds beyond this
    order, counts, pd = _padded_grid(coords, idx, cutoff)
    m_at = len(order)
    xs = np.empty(m_at)
    ys = np.empty(m_at)
    zs = np.empty(m_at)
    rs = np.empty(m_at)
    for p in range(m_at):
        i = order[p]
        xs[p] = coords[i, 0]
        ys[p] = coords[i, 1]
        zs[p] = coords[i, 2]
        rs[p] = radii[i] + tol
    offs = _forward_offsets(pd)
    pa = np.empty(cap, np.int64)
    pb = np.empty(cap, np.int64)
    m = 0
    n_cells = len(counts) - 1
    for c in range(n_cells):
        p0 = counts[c]
        p1 = counts[c + 1]
        if p0 == p1:
            continue
        for k in range(14):
            c2 = c + offs[k]
            q1 = counts[c2 + 1]
            for p in range(p0, p1):
                xi = xs[p]
                yi = ys[p]
                zi = zs[p]
                ri = rs[p]
                q0 = p + 1 if k == 0 else counts[c2]
                for q in range(q0, q1):
                    dx = xi - xs[q]
                    dy = yi - ys[q]
                    dz = zi - zs[q]
                    dd = (dx * dx + dy * dy) + dz * dz
                    lim = ri + rs[q] - tol
                    # squared pre-test with a margin; the exact test is below
                    if dd > lim * lim * 1.000001 + 1e-12:
                        continue
                    i = order[p]
                    j = order[q]
                    m = _push_bond(coords, radii, min(i, j), max(i, j), tol, min_bond, pa, pb, m, cap)
    if m > cap:
        return np.zeros((0, 2), np.int64), m
    return _sorted_pairs(pa, pb, m, n), m


@nb.njit(cache=True)
def _is_bond(coords, radii, i, j, tol, min_bond):
    """The covalent-bond test for atoms i < j, evaluated exactly as the NumPy version
    (``np.linalg.norm(coords[i] - coords[j])`` against the radii sum plus tolerance), after a
    cheap squared-distance rejection with a margin."""
    ex = coords[i, 0] - coords[j, 0]
    ey = coords[i, 1] - coords[j, 1]
    ez = coords[i, 2] - coords[j, 2]
    dd = (ex * ex + ey * ey) + ez * ez
    lim = radii[i] + radii[j] + tol
    if dd > lim * lim * 1.000001 + 1e-12:
        return False
    d = np.sqrt(dd)
    return d <= lim and d > min_bond


@nb.njit(cache=True, inline="always")
def _push_bond(coords, radii, i, j, tol, min_bond, pa, pb, m, cap):
    """Record (i, j), i < j, when :func:`_is_bond`; returns the new count (which may pass ``cap``:
    the caller then runs again with room for all)."""
    if _is_bond(coords, radii, i, j, tol, min_bond):
        if m < cap:
            pa[m] = i
            pb[m] = j
        m += 1
    return m


@nb.njit(cache=True)
def _sorted_pairs(pa, pb, m, n):
    """(m, 2) pairs sorted by (i, j): counting sort on i, insertion sort of each atom's few partners."""
    start = np.zeros(n + 1, np.int64)
    for e in range(m):
        start[pa[e] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:-1].copy()
    out = np.empty((m, 2), np.int64)
    for e in range(m):
        i = pa[e]
        q = fill[i]
        fill[i] += 1
        j = pb[e]
        while q > start[i] and out[q - 1, 1] > j:
            out[q, 0] = i
            out[q, 1] = out[q - 1, 1]
            q -= 1
        out[q, 0] = i
        out[q, 1] = j
    return out


@nb.njit(cache=True)
def site_bonds(coords, radii, rid, link_class, hetero, tol, min_bond, cap):
    """Receptor bonds as ``_restrict_cross_residue_bonds(perceive_bonds(...))`` gives them, found
    directly: every qualifying pair within a residue run, and between residues only backbone
    links (``link_class`` 1 C, 2 N, 3 O3', 4 P, 5 SG: products 2, 12, 25) and pairs with a
    hetero atom. Returns ``(pairs (M, 2) int64 sorted, count)``: count -1 (a residue run of more
    than 256 atoms) asks for the general search; count > ``cap`` (room for pairs, fixed so that
    no array is reallocated inside the loops) for a call with ``cap=count``."""
    n = len(radii)
    pa = np.empty(cap, np.int64)
    pb = np.empty(cap, np.int64)
    m = 0
    # within residues: all pairs (runs are short)
    start = 0
    while start < n:
        end = start + 1
        while end < n and rid[end] == rid[start]:
            end += 1
        if end - start > 256:
            return np.zeros((0, 2), np.int64), -1
        for i in range(start, end):
            if radii[i] <= 0:
                continue
            for j in range(i + 1, end):
                if radii[j] > 0:
                    m = _push_bond(coords, radii, i, j, tol, min_bond, pa, pb, m, cap)
        start = end
    # between residues, backbone links among the polymer's link atoms
    idx = np.flatnonzero((radii > 0) & (link_class > 0) & ~hetero)
    if len(idx) > 1:
        r_max = 0.0
        for i in idx:
            r_max = max(r_max, radii[i])
        order, counts, pd = _padded_grid(coords, idx, 2 * r_max + tol)
        offs = _forward_offsets(pd)
        for c in range(len(counts) - 1):
            p0 = counts[c]
            p1 = counts[c + 1]
            if p0 == p1:
                continue
            for k in range(14):
                c2 = c + offs[k]
                for p in range(p0, p1):
                    a = order[p]
                    for q in range(p + 1 if k == 0 else counts[c2], counts[c2 + 1]):
                        b = order[q]
                        prod = np.int64(link_class[a]) * np.int64(link_class[b])
                        if rid[a] == rid[b] or not (prod == 2 or prod == 12 or prod == 25):
                            continue
                        m = _push_bond(coords, radii, min(a, b), max(a, b), tol, min_bond, pa, pb, m, cap)
    # between residues, anything bonded to a hetero atom
    het = np.flatnonzero((radii > 0) & hetero)
    if len(het):
        idx = np.flatnonzero(radii > 0)
        r_max = 0.0
        for i in idx:
            r_max = max(r_max, radii[i])
        order, counts, pd = _padded_grid(coords, idx, 2 * r_max + tol)
        cell_of = np.empty(n, np.int64)
        for c in range(len(counts) - 1):
            for p in range(counts[c], counts[c + 1]):
                cell_of[order[p]] = c
        for a in het:
            c = cell_of[a]
            for ox in range(-1, 2):
                for oy in range(-1, 2):
                    for oz in range(-1, 2):
                        c2 = c + (ox * pd[1] + oy) * pd[2] + oz
                        for q in range(counts[c2], counts[c2 + 1]):
                            b = order[q]
                            # each pair once: a hetero partner only from the lower index
                            if rid[b] == rid[a] or (hetero[b] and b < a):
                                continue
                            m = _push_bond(coords, radii, min(a, b), max(a, b), tol, min_bond, pa, pb, m, cap)
    if m > cap:
        return np.zeros((0, 2), np.int64), m
    return _sorted_pairs(pa, pb, m, n), m


@nb.njit(cache=True)
def _forward_offsets(pd):
    """Linear offsets of the forward half of the 3x3x3 neighbourhood in a grid of dims ``pd``,
    own cell first."""
    offs = np.empty(14, np.int64)
    for k in range(14):
        kk = k + 13
        offs[k] = ((kk // 9 - 1) * pd[1] + ((kk // 3) % 3 - 1)) * pd[2] + (kk % 3 - 1)
    return offs



@nb.njit(cache=True, inline="always")
def _links(coords, name_class, rid, i, j, want, r, c2):
    """Atom ``j`` is the partner class ``want`` of atom ``i`` (residue ``r``), in another residue,
    within sqrt(``c2``) Å: a backbone link."""
    if name_class[j] != want or rid[j] == r:
        return False
    dx = coords[i, 0] - coords[j, 0]
    dy = coords[i, 1] - coords[j, 1]
    dz = coords[i, 2] - coords[j, 2]
    return (dx * dx + dy * dy) + dz * dz <= c2

@nb.njit(cache=True)
def linked_residues(coords, rid, name_class, hetero, n_res, cutoff):
    """(n_res,) bool: residues with a hetero atom and a backbone (``name_class`` 5 CA or 6 C1')
    whose link atom (1 C, 2 N, 3 O3', 4 P) lies within ``cutoff`` Å of the complementary atom
    (C-N, O3'-P) of another residue: modified residues linked into a chain."""
    has_het = np.zeros(n_res, np.bool_)
    has_bb = np.zeros(n_res, np.bool_)
    n_link = 0
    for i in range(len(rid)):
        has_het[rid[i]] |= hetero[i]
        has_bb[rid[i]] |= name_class[i] >= 5
        n_link += 1 <= name_class[i] <= 4
    linked = np.zeros(n_res, np.bool_)
    link = np.empty(n_link, np.int64)
    queries = np.empty(n_link, np.int64)
    nq = 0
    k = 0
    for i in range(len(rid)):
        if 1 <= name_class[i] <= 4:
            link[k] = i
            k += 1
            if has_het[rid[i]] and has_bb[rid[i]]:
                queries[nq] = i
                nq += 1
    if nq == 0 or n_link < 2:
        return linked
    c2 = cutoff * cutoff
    if nq * n_link <= 200000:  # few candidates (the usual case): every link atom
        for q in range(nq):
            i = queries[q]
            r = rid[i]
            ci = name_class[i]
            want = ci + 1 if ci % 2 == 1 else ci - 1
            for j in link:
                if _links(coords, name_class, rid, i, j, want, r, c2):
                    linked[r] = True
        return linked
    order, counts, lo, dims, cell = _grid(coords, link, cutoff)
    for q in range(nq):
        i = queries[q]
        r = rid[i]
        if linked[r]:
            continue
        ci = name_class[i]
        want = ci + 1 if ci % 2 == 1 else ci - 1
        cx = min(int((coords[i, 0] - lo[0]) / cell), dims[0] - 1)
        cy = min(int((coords[i, 1] - lo[1]) / cell), dims[1] - 1)
        cz = min(int((coords[i, 2] - lo[2]) / cell), dims[2] - 1)
        for x in range(max(cx - 1, 0), min(cx + 2, dims[0])):
            for y in range(max(cy - 1, 0), min(cy + 2, dims[1])):
                for z in range(max(cz - 1, 0), min(cz + 2, dims[2])):
                    c = (x * dims[1] + y) * dims[2] + z
                    for p in range(counts[c], counts[c + 1]):
                        if _links(coords, name_class, rid, i, order[p], want, r, c2):
                            linked[r] = True
    return linked


@nb.njit(cache=True)
def near_residues(coords, mask, rid, n_res, near, radius):
    """(n_res,) bool: residues with an atom (where ``mask``) within ``radius`` Å of a point of
    ``near`` (K, 3)."""
    close = np.zeros(n_res, np.bool_)
    k = len(near)
    lo = np.empty(3)
    hi = np.empty(3)
    for d in range(3):
        lo[d] = np.inf
        hi[d] = -np.inf
        for q in range(k):
            lo[d] = min(lo[d], near[q, d])
            hi[d] = max(hi[d], near[q, d])
        lo[d] -= radius
        hi[d] += radius
    r2 = radius * radius
    for i in range(len(coords)):
        if not mask[i] or close[rid[i]]:
            continue
        x = coords[i, 0]
        y = coords[i, 1]
        z = coords[i, 2]
        if x < lo[0] or x > hi[0] or y < lo[1] or y > hi[1] or z < lo[2] or z > hi[2]:
            continue
        for q in range(k):
            dx = x - near[q, 0]
            dy = y - near[q, 1]
            dz = z - near[q, 2]
            if (dx * dx + dy * dy) + dz * dz <= r2:
                close[rid[i]] = True
                break
    return close


@nb.njit(cache=True)
def gather_sites(rows, hetero, serial, res_num, coords, occupancy, model, name, altloc, res_name, chain, icode,
                 element):
    """All per-atom columns of a ``_Sites`` at ``rows``, in one pass (one dispatch instead of a
    dozen NumPy calls)."""
    m = len(rows)
    o_hetero = np.empty(m, hetero.dtype)
    o_serial = np.empty(m, serial.dtype)
    o_res_num = np.empty(m, res_num.dtype)
    o_coords = np.empty((m, 3), coords.dtype)
    o_occ = np.empty(m, occupancy.dtype)
    o_model = np.empty(m, model.dtype)
    o_name = np.empty(m, name.dtype)
    o_altloc = np.empty(m, altloc.dtype)
    o_res_name = np.empty(m, res_name.dtype)
    o_chain = np.empty(m, chain.dtype)
    o_icode = np.empty(m, icode.dtype)
    o_element = np.empty(m, element.dtype)
    for k in range(m):
        i = rows[k]
        o_hetero[k] = hetero[i]
        o_serial[k] = serial[i]
        o_res_num[k] = res_num[i]
        o_coords[k, 0] = coords[i, 0]
        o_coords[k, 1] = coords[i, 1]
        o_coords[k, 2] = coords[i, 2]
        o_occ[k] = occupancy[i]
        o_model[k] = model[i]
        o_name[k] = name[i]
        o_altloc[k] = altloc[i]
        o_res_name[k] = res_name[i]
        o_chain[k] = chain[i]
        o_icode[k] = icode[i]
        o_element[k] = element[i]
    return (o_hetero, o_serial, o_res_num, o_coords, o_occ, o_model, o_name, o_altloc, o_res_name, o_chain,
            o_icode, o_element)
