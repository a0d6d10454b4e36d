"""Streaming ligand libraries for screening: split into chunks of raw records, then type poses fast.

The main process only *splits* the (possibly gzipped) byte stream into chunks of ``B`` records at
record separators (``$$$$`` for SDF, ``@<TRIPOS>MOLECULE`` for MOL2); it never parses a molecule, so
it stays cheap and its memory is bounded by the chunks in flight. Workers turn a chunk into a
:class:`PoseBatch`: flat NumPy arrays of feature points and heavy atoms for all its poses, which
:mod:`pocketvox.apps.screen_score` scores in one vectorised pass.

Typing speed (see benchmarks/results/screening.md): RDKit parses each record with ``sanitize=False``
(validation and coordinates; each Mol is freed at once); V2000 records are then typed together,
from their text, by :func:`_type_v2000_batch` (NumPy over the chunk's atoms and bonds, own ring
search and Hückel test). Other records (V3000, MOL2) are typed per molecule with RDKit and the
SMARTS below. Consecutive poses of one molecule whose V2000 connection table is identical reuse the
typing of the first and only have their coordinates parsed (NumPy).
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pocketvox.errors import InputFileError

#: Feature bits of a ligand point (an atom or a ring centroid).
DONOR, ACCEPTOR, HYDROPHOBIC, RING, POSITIVE, NEGATIVE, HALOGEN = (1 << i for i in range(7))
FEATURE_BITS = {
    "donor": DONOR, "acceptor": ACCEPTOR, "hydrophobic": HYDROPHOBIC, "ring": RING,
    "positive": POSITIVE, "negative": NEGATIVE, "halogen": HALOGEN,
}

#: SMARTS of the ligand-side features, PLIP's ligand definitions in spirit (Salentin et al., Nucleic
#: Acids Res. 2015; Adasme et al. 2021): hydrophobic = carbon bound only to C/H; H-bond donor = N/O
#: bearing H; acceptor = O (neutral or anionic) and N with a free lone pair (not amide, aniline,
#: pyrrole-type or cationic N); halogen-bond donor = any F/Cl/Br/I; charges as docked (formal).
FEATURE_SMARTS = {
    "donor": "[#7,#8;!H0]",
    "acceptor": (
        "[$([#8;+0,-1]),$([#7;+0;X1,X2;!$([#7]=[#6]-[#7;!H0])]),"
        "$([#7;+0;X3;!a;!$([#7]-[#6,#16,#15]=[#8,#16,#7]);!$([#7]-a)])]"
    ),
    "hydrophobic": "[#6;!$([#6]~[!#6;!#1])]",
    "charged": "[!+0]",
    "aromatic": "[a]",
}

#: Bondi van der Waals radii (Å), J. Phys. Chem. 1964, 68, 441; 1.8 Å for elements not listed.
VDW_RADIUS = {
    "H": 1.20, "C": 1.70, "N": 1.55, "O": 1.52, "F": 1.47, "P": 1.80, "S": 1.80, "CL": 1.75,
    "BR": 1.85, "I": 1.98, "SE": 1.90, "B": 1.92, "SI": 2.10,
}
DEFAULT_VDW = 1.8


def vdw_radii(elements) -> np.ndarray:
    """(N,) element symbols (any case) -> (N,) float32 Bondi radii (Å)."""
    el = np.char.upper(np.asarray(elements, dtype=str))
    out = np.full(el.shape, DEFAULT_VDW, np.float32)
    for k, v in VDW_RADIUS.items():
        out[el == k] = v
    return out


# ---------------------------------------------------------------------------------------- splitting
_SDF_SEP = re.compile(rb"^\$\$\$\$[ \t\r]*(?:\n|\Z)", re.M)
_MOL2_START = re.compile(rb"^@<TRIPOS>MOLECULE[ \t\r]*$", re.M)


def library_format(path: str | Path) -> str:
    """'sdf' or 'mol2' from the name (``.gz`` ignored); anything else is read as SDF."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return "mol2" if name.endswith(".mol2") else "sdf"


class _GzipStream:
    """Incremental gzip reader (multi-member) that hands out every byte decodable before a
    truncation or corruption, then raises ``EOFError`` / ``zlib.error`` (``gzip.GzipFile`` loses the
    partial block it was decompressing)."""

    def __init__(self, path: Path, block: int = 1 << 20):
        self.f = open(path, "rb")
        self.block = block
        self.z = zlib.decompressobj(wbits=31)
        self.buf = b""
        self.done = False
        self.in_member = False
        self.pending_error: Exception | None = None

    def _fill(self, n: int):
        while len(self.buf) < n and not self.done:
            raw = self.f.read(self.block)
            if not raw:
                self.done = True
                if self.in_member:
                    self.pending_error = EOFError("compressed file ended before the end-of-stream marker")
                break
            try:
                while raw:
                    self.in_member = True
                    self.buf += self.z.decompress(raw)
                    raw = b""
                    if self.z.eof:  # member complete; what follows may be another member
                        self.in_member = False
                        raw = self.z.unused_data
                        self.z = zlib.decompressobj(wbits=31)
            except zlib.error as e:
                self.done = True
                self.pending_error = e

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self.buf[:n]

    def read(self, n: int) -> bytes:
        self._fill(n)
        out, self.buf = self.buf[:n], self.buf[n:]
        if not out and self.pending_error is not None:
            err, self.pending_error = self.pending_error, None
            raise err
        return out

    def close(self):
        self.f.close()


def open_library(path: str | Path):
    """Binary stream over a library file, decompressing gzip when its magic bytes say so.

    Raises :class:`InputFileError` for a missing, empty or binary (non-text) file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: library file not found")
    if p.stat().st_size == 0:
        raise InputFileError(f"{p}: library file is empty")
    with open(p, "rb") as f:
        magic = f.read(2)
    fh = _GzipStream(p) if magic == b"\x1f\x8b" else open(p, "rb")
    try:
        head = fh.peek(4096)[:4096]
    except (OSError, EOFError, zlib.error) as e:
        fh.close()
        raise InputFileError(f"{p}: cannot decompress the library ({e})") from e
    if b"\x00" in head:
        fh.close()
        raise InputFileError(f"{p}: binary content, not an SDF or MOL2 library")
    if not head.strip():
        fh.close()
        raise InputFileError(f"{p}: library file holds no records")
    return fh


@dataclass(frozen=True)
class Chunk:
    """``n`` consecutive raw records of one library file; ``start`` is the global index of the first."""

    index: int
    file: str
    fmt: str
    start: int
    n: int
    data: bytes


def _split_records(buf: bytes, fmt: str) -> tuple[list[bytes], bytes]:
    """Complete records in ``buf`` and the unfinished tail."""
    if fmt == "sdf":
        out, pos = [], 0
        for m in _SDF_SEP.finditer(buf):
            out.append(buf[pos:m.end()])
            pos = m.end()
        return out, buf[pos:]
    starts = [m.start() for m in _MOL2_START.finditer(buf)]
    if len(starts) < 2:
        return [], buf
    lead = [buf[: starts[0]]] if buf[: starts[0]].strip() else []
    recs = [buf[a:b] for a, b in zip(starts[:-1], starts[1:])]
    return lead + recs, buf[starts[-1]:]


def iter_chunks(paths, batch_size: int, read_block: int = 1 << 22, on_error=None):
    """Yield :class:`Chunk` s of ``batch_size`` records over the library files in order.

    Chunk indices and record indices are global over all files, so the same inputs and batch size
    always give the same chunks (the basis of resume and of identical -j / Ray results). A truncated
    gzip stream ends that file: ``on_error(index, file, reason)`` is called and the next file follows.
    """
    chunk_idx, rec_idx = 0, 0
    for path in paths:
        fmt = library_format(path)
        fh = open_library(path)
        pending: list[bytes] = []
        tail = b""
        try:
            while True:
                try:
                    block = fh.read(read_block)
                except (OSError, EOFError, zlib.error) as e:
                    if on_error is not None:
                        on_error(rec_idx + len(pending), str(path),
                                 f"library stream broken ({e}); rest of the file skipped")
                    block = b""
                    tail = b""
                if not block:
                    if tail.strip():
                        pending.append(tail)
                    tail = b""
                else:
                    recs, tail = _split_records(tail + block, fmt)
                    pending.extend(recs)
                while len(pending) >= batch_size or (not block and pending):
                    take, pending = pending[:batch_size], pending[batch_size:]
                    yield Chunk(chunk_idx, str(path), fmt, rec_idx, len(take), b"".join(take))
                    chunk_idx += 1
                    rec_idx += len(take)
                if not block:
                    break
        finally:
            fh.close()


# ------------------------------------------------------------------------------------------ typing
@dataclass
class PoseBatch:
    """Typed poses of one chunk, flattened (P poses).

    index : (P,) int64 global record index; name : list of P str (title line, '#<index>' if empty)
    ok : (P,) bool, False where the record failed (``errors`` maps local row -> reason)
    pt_xyz : (F, 3) float64 Å feature points; pt_bits : (F,) uint8 feature bits; pt_pose : (F,) int32
    hv_xyz : (H, 3) float64 Å heavy atoms; hv_rad : (H,) float32 vdW radius Å; hv_pose : (H,) int32
    n_heavy : (P,) int32; tags : list of P dicts (only with keep_tags, else None)
    """

    index: np.ndarray
    name: list
    ok: np.ndarray
    errors: dict
    pt_xyz: np.ndarray
    pt_bits: np.ndarray
    pt_pose: np.ndarray
    hv_xyz: np.ndarray
    hv_rad: np.ndarray
    hv_pose: np.ndarray
    n_heavy: np.ndarray
    tags: list | None = None
    hv_bits: np.ndarray | None = None  # (H,) uint8 feature bits of the heavy atoms (for --rescore cnn)
    hv_ring: np.ndarray | None = None  # (H,) bool: member of an aromatic ring


@dataclass
class _Topology:
    """Typing of one molecule graph, reused by its later poses (coordinates change, typing does not)."""

    atom_bits: np.ndarray  # (N,) uint8
    rings: np.ndarray  # (R, 8) int64 aromatic ring members (atom indices), padded with -1
    heavy: np.ndarray  # (N,) bool
    radius: np.ndarray  # (N,) float32
    key: tuple | None  # (title, n_atoms, elements + bond block) for V2000 records


_PATTERNS = None
_HALOGEN_BITS = np.zeros(119, np.uint8)  # atomic number -> HALOGEN bit (table lookup, no np.isin)
_HALOGEN_BITS[[9, 17, 35, 53]] = HALOGEN


def _patterns():
    global _PATTERNS
    if _PATTERNS is None:
        from rdkit import Chem

        _PATTERNS = {k: Chem.MolFromSmarts(s) for k, s in FEATURE_SMARTS.items()}
    return _PATTERNS


class _RDKitLog:
    """Routes RDKit's messages to a list so that a failed record gets RDKit's own reason."""

    def __init__(self):
        import logging

        from rdkit import rdBase

        self.messages: list[str] = []
        rdBase.LogToPythonLogger()
        log = logging.getLogger("rdkit")
        log.propagate = False
        log.setLevel(logging.WARNING)
        outer = self

        class _H(logging.Handler):
            def emit(self, record):
                outer.messages.append(record.getMessage().strip())

        log.handlers = [_H()]

    def last(self, default: str) -> str:
        msg = [m for m in self.messages if m and "moving to the beginning of the next" not in m]
        self.messages.clear()
        if not msg:
            return default
        text = msg[0].splitlines()[-1].strip()
        return re.sub(r"^\[[0-9:]+\]\s*", "", text) or default


_LOG: _RDKitLog | None = None
_PT = None


_Z_CACHE: dict = {}


def _z_from_symbols(symbols) -> np.ndarray:
    """Element symbols (any case, padded) -> (N,) int16 atomic numbers; 0 for unknown ones."""
    global _PT
    get = _Z_CACHE.get
    out = [get(s, -1) for s in symbols]
    if -1 in out:
        from rdkit import Chem

        if _PT is None:
            _PT = Chem.GetPeriodicTable()
        for j, s in enumerate(symbols):
            if out[j] == -1:
                try:
                    _Z_CACHE[s] = _PT.GetAtomicNumber(s.strip().capitalize())
                except RuntimeError:  # unknown symbol ('R', 'A', ...): no radius of its own
                    _Z_CACHE[s] = 0
                out[j] = _Z_CACHE[s]
    return np.array(out, np.int16)


_RADIUS_BY_Z: np.ndarray | None = None


def _radius_table() -> np.ndarray:
    global _RADIUS_BY_Z
    if _RADIUS_BY_Z is None:
        t = np.full(119, DEFAULT_VDW, np.float32)
        z = _z_from_symbols(list(VDW_RADIUS))
        t[z] = list(VDW_RADIUS.values())
        _RADIUS_BY_Z = t
    return _RADIUS_BY_Z


def _type_mol(mol, z: np.ndarray | None, key) -> _Topology:
    """Feature bits, aromatic rings, heavy mask and radii of an unsanitized RDKit Mol.

    ``z`` (N,) atomic numbers when the caller read them from the record text (V2000), else None.
    """
    from rdkit import Chem

    mol.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(mol)
    Chem.SetAromaticity(mol)
    n = mol.GetNumAtoms()
    if z is None or len(z) != n:
        z = np.fromiter((a.GetAtomicNum() for a in mol.GetAtoms()), np.int16, n)
    pats = _patterns()
    bits = np.zeros(n, np.uint8)
    for feat in ("donor", "acceptor", "hydrophobic"):
        hits = [t[0] for t in mol.GetSubstructMatches(pats[feat], uniquify=False, maxMatches=100000)]
        if hits:
            bits[hits] |= FEATURE_BITS[feat]
    for (i,) in mol.GetSubstructMatches(pats["charged"], uniquify=False, maxMatches=100000):
        bits[i] |= POSITIVE if mol.GetAtomWithIdx(i).GetFormalCharge() > 0 else NEGATIVE
    zc = np.clip(z, 0, 118)
    bits |= _HALOGEN_BITS[zc]
    rings: list = []
    ring_atoms = mol.GetRingInfo().AtomRings()
    if ring_atoms:
        arom = np.zeros(n, bool)
        hits = [t[0] for t in mol.GetSubstructMatches(pats["aromatic"], uniquify=False, maxMatches=100000)]
        arom[hits] = True
        rings = [r for r in ring_atoms if 5 <= len(r) <= 8 and arom[list(r)].all()]
    return _Topology(bits, _pad_rings(rings), z != 1, _radius_table()[zc], key)


def _pad_rings(rings) -> np.ndarray:
    out = np.full((len(rings), 8), -1, np.int64)
    for j, r in enumerate(rings):
        out[j, : len(r)] = r
    return out


def _v2000_topology_key(lines: list[str]):
    """(n_atoms, elements + bond block, atom lines) of a V2000 record, or None (V3000 or malformed)."""
    if len(lines) < 4 or "V2000" not in lines[3]:
        return None
    try:
        na, nb = int(lines[3][0:3]), int(lines[3][3:6])
    except ValueError:
        return None
    if len(lines) < 4 + na + nb:
        return None
    atom_lines = lines[4:4 + na]
    topo = "".join(line[30:] for line in atom_lines) + "\n".join(lines[4 + na:4 + na + nb])
    return na, topo, atom_lines


class _Parsed(list):
    """RDKit Mols of a chunk's records (None where parsing failed) with RDKit's reasons."""

    reasons: dict


def _parse_all(chunk: Chunk, records: list[str]) -> _Parsed:
    """Parse the chunk's SDF records with RDKit, without sanitization.

    Each entry is None (RDKit failed; ``reasons`` has its message) or ``(xyz (N, 3), n_atoms,
    n_conformers, mol)``; ``mol`` is kept only for records the array typer cannot read (not V2000),
    so every other Mol is freed while it is still in cache, as a plain read loop would (holding a
    chunk of Mols and freeing them together costs as much as parsing them).
    ForwardSDMolSupplier over the whole chunk is RDKit's fastest reader; if its record count
    disagrees with ours (odd separators), each record is parsed on its own so that rows stay aligned.
    """
    from rdkit import Chem

    def keep_mol(i):
        head = records[i].split("\n", 4) if i < len(records) else []
        return len(head) < 4 or "V2000" not in head[3]

    def entry(i, m):
        if m is None:
            out.reasons[i] = _LOG.last("RDKit cannot parse the record")
            return None
        nc = m.GetNumConformers()
        xyz = m.GetConformer().GetPositions() if nc else None
        return xyz, m.GetNumAtoms(), nc, (m if keep_mol(i) else None)

    _LOG.messages.clear()
    out = _Parsed()
    out.reasons = {}
    sup = Chem.ForwardSDMolSupplier(io.BytesIO(chunk.data), sanitize=False, removeHs=False)
    for i, m in enumerate(sup):
        out.append(entry(i, m))
    if len(out) == len(records):
        return out
    out = _Parsed()
    out.reasons = {}
    for i, r in enumerate(records):
        m = Chem.MolFromMolBlock(r, sanitize=False, removeHs=False) if r.strip() else None
        out.append(entry(i, m))
    return out


def _v2000_coords(atom_lines: list[str]) -> np.ndarray:
    return np.array([(s[0:10], s[10:20], s[20:30]) for s in atom_lines], dtype=np.float64).reshape(-1, 3)


def _sd_tags(text: str) -> dict:
    """SD data items ``> <TAG>`` of one record -> {tag: value} (multi-line values joined by newlines)."""
    out = {}
    end = text.find("M  END")
    body = text[end:] if end >= 0 else text
    for m in re.finditer(r"^>.*?<([^>]*)>.*\n((?:.+\n?)*)", body, re.M):
        out[m.group(1)] = m.group(2).rstrip("\n").replace("$$$$", "").rstrip()
    return out


def _mol2_title(text: str) -> str:
    lines = text.split("\n", 3)
    return lines[1].strip() if len(lines) > 1 else ""


@dataclass
class _Pending:
    """A V2000 record whose typing is computed with the rest of its chunk."""

    row: int
    text: str  # the record (re-parsed by RDKit only if the array typer declines it)
    atom_lines: list  # the atom block's lines
    bond_lines: list  # the bond block's lines
    charges: np.ndarray | None  # from ``M  CHG`` lines; None: take the atom block's charge codes
    key: tuple | None


def _columns(lines: list[str], spans) -> list[np.ndarray]:
    """Fixed-width integer or text columns of many lines at once.

    ``spans``: (start, end, kind) with kind 'i' (int, blank = 0) or 's' (bytes). One NumPy view when
    every line has the same length (the usual case), padding per line otherwise.
    """
    if not lines:
        return [np.zeros(0, np.int64) if k == "i" else np.zeros(0, "S1") for _, _, k in spans]
    width = max(e for _, e, _ in spans)
    L = len(lines[0])
    blob = "\n".join(lines).encode("latin-1", "replace") + b"\n"
    if L >= width and len(blob) == len(lines) * (L + 1):
        arr = np.frombuffer(blob, np.uint8).reshape(len(lines), L + 1)
        if not (arr[:, L] == 10).all():
            arr = None
    else:
        arr = None
    if arr is None:
        blob = "".join(x.ljust(width)[:width] for x in lines).encode("latin-1", "replace")
        arr = np.frombuffer(blob, np.uint8).reshape(len(lines), width)
    out = []
    for a0, a1, kind in spans:
        block = arr[:, a0:a1]
        if kind == "i":
            # right-aligned unsigned integers: digits weighted by their place, blanks count 0
            dig = (block >= 48) & (block <= 57)
            if not (dig | (block == 32)).all():
                raise ValueError("non-numeric fixed-width field")
            w = 10 ** np.arange(a1 - a0 - 1, -1, -1)
            out.append(np.where(dig, block.astype(np.int64) - 48, 0) @ w)
        else:
            out.append(np.ascontiguousarray(block).view(f"S{a1 - a0}").ravel())
    return out


#: Default valence by atomic number (implicit-H model of the V2000 typer); 0 = no implicit H.
_DEFAULT_VALENCE = np.zeros(119, np.int16)
_DEFAULT_VALENCE[[1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 34, 35, 53]] = [1, 3, 4, 3, 2, 1, 4, 3, 2, 1, 2, 1, 1]
_CHARGE_ADDS = np.zeros(119, bool)  # N+, O+ gain a bond; N-, O- lose one
_CHARGE_ADDS[[7, 8, 15, 16, 34]] = True
_CHARGE_SUBS = np.zeros(119, bool)  # C+, C-, B: one bond fewer either way
_CHARGE_SUBS[[5, 6, 14]] = True


def _mchg(prop_lines: list[str], na: int) -> np.ndarray | None:
    """Formal charges from ``M  CHG`` lines (they supersede the atom block), or None if none."""
    out = None
    for line in prop_lines:
        if line.startswith("M  CHG"):
            if out is None:
                out = np.zeros(na, np.int8)
            f = line.split()[3:]
            for a, v in zip(f[0::2], f[1::2]):
                k = int(a) - 1
                if 0 <= k < na:
                    out[k] = int(v)
        elif line.startswith("M  END"):
            break
    return out


def _small_cycles(N: int, a: np.ndarray, b: np.ndarray, cand: np.ndarray, sizes=(5, 6)):
    """All simple cycles of ``sizes`` atoms in the graph of bonds (a, b) between ``cand`` atoms.

    Vectorised path growth: a path starts at its smallest atom and only grows to larger atoms, and a
    cycle is kept in one direction (second atom < last atom), so each cycle is found once. Returns
    ``(members (R, 8) int64 padded with -1, in cycle order, sorted by first atom; lengths (R,))``.
    """
    m = cand[a] & cand[b]
    src, dst = np.r_[a[m], b[m]], np.r_[b[m], a[m]]
    o = np.argsort(src, kind="stable")
    src, dst = src[o], dst[o]
    indptr = np.searchsorted(src, np.arange(N + 1))
    paths = np.stack([src[dst > src], dst[dst > src]], 1)
    found = []
    for n in range(2, max(sizes) + 1):
        if len(paths) == 0:
            break
        last = paths[:, -1]
        deg = indptr[last + 1] - indptr[last]
        rep = np.repeat(np.arange(len(paths)), deg)
        pos = np.repeat(indptr[last] - np.cumsum(deg) + deg, deg) + np.arange(int(deg.sum()))
        nbr = dst[pos]
        P = paths[rep]
        if n in sizes:
            close = (nbr == P[:, 0]) & (P[:, 1] < P[:, -1])
            if close.any():
                c = np.full((int(close.sum()), 8), -1, np.int64)
                c[:, :n] = P[close]
                found.append(c)
        if n == max(sizes):
            break
        grow = (nbr > P[:, 0]) & (P != nbr[:, None]).all(1)
        paths = np.concatenate([P[grow], nbr[grow, None]], 1)
    if not found:
        return np.zeros((0, 8), np.int64), np.zeros(0, np.int64)
    mem = np.concatenate(found)
    mem = mem[np.argsort(mem[:, 0], kind="stable")]
    return mem, (mem >= 0).sum(1)


def _bond_columns_slow(lines):
    n = len(lines)
    ca, cb, co, ok = (np.zeros(n, np.int64) for _ in range(3)) + (np.ones(n, bool),)
    for i, x in enumerate(lines):
        try:
            ca[i], cb[i], co[i] = int(x[0:3]), int(x[3:6]), int(x[6:9])
        except ValueError:
            ok[i] = False
    return ca, cb, co, ok


def _type_v2000_batch(items: list[_Pending]) -> list[_Topology | None]:
    """Type the atoms of many V2000 molecules at once from their text (elements, charges, bond
    table) and RDKit's ring list; one array pass over all atoms and bonds of the chunk.

    Rules are those of :data:`FEATURE_SMARTS`, evaluated with bincounts over the bond graph.
    Aromatic rings (5/6-cycles of pi-capable atoms from :func:`_small_cycles`, Hückel count on the
    Kekulé structure): a ring is
    aromatic when every member brings pi electrons — 1 for a double bond in the ring or to a fused
    ring atom, 2 for a lone pair (N/P with three connections, O/S/Se with two, C-/N-), 0 for C+ or
    an exocyclic C=X — and they sum to 4n + 2; rings of SDF aromatic bonds (type 4) are aromatic.
    Returns None for a molecule whose bond table is malformed (the caller types it with RDKit
    SMARTS instead).
    """
    if not items:
        return []
    na = np.array([len(it.atom_lines) for it in items], np.int64)
    nb = np.array([len(it.bond_lines) for it in items], np.int64)
    aoff = np.r_[0, np.cumsum(na)[:-1]]
    N = int(na.sum())
    sym, code = _columns([x for it in items for x in it.atom_lines], [(31, 34, "s"), (36, 39, "i")])
    usym, inv = np.unique(sym, return_inverse=True)  # a handful of distinct symbols per chunk
    z = np.clip(_z_from_symbols([u.decode("latin-1") for u in usym]), 0, 118)[inv.reshape(-1)]
    # M  CHG lines win; otherwise the atom block's codes 1..7 -> +3, +2, +1, 0, -1, -2, -3
    chg = np.where((code >= 1) & (code <= 7), 4 - code, 0).astype(np.int16)
    for m, it in enumerate(items):
        if it.charges is not None:
            chg[aoff[m]:aoff[m] + na[m]] = it.charges
    try:
        ca, cb, co = _columns([x for it in items for x in it.bond_lines], [(0, 3, "i"), (3, 6, "i"), (6, 9, "i")])
        okchar = np.ones(len(ca), bool)
    except ValueError:  # a non-numeric bond line somewhere: check line by line
        ca, cb, co, okchar = _bond_columns_slow([x for it in items for x in it.bond_lines])
    mol_of_bond = np.repeat(np.arange(len(items)), nb)
    a_loc, b_loc, order = ca - 1, cb - 1, co
    valid = okchar & (a_loc >= 0) & (b_loc >= 0) & (a_loc < na[mol_of_bond]) & (b_loc < na[mol_of_bond]) \
        & (a_loc != b_loc) & (order >= 1) & (order <= 4)
    bad_mol = np.zeros(len(items), bool)
    bad_mol[mol_of_bond[~valid]] = True
    a = np.where(valid, a_loc + aoff[mol_of_bond], 0)
    b = np.where(valid, b_loc + aoff[mol_of_bond], 0)
    a, b, order = a[valid], b[valid], order[valid]

    # aromatic rings: ring edges looked up by a pair key
    key = np.minimum(a, b) * N + np.maximum(a, b)
    korder = np.argsort(key)
    skey, sorder = key[korder], order[korder]
    # candidate ring atoms: heavy atoms that can bring pi electrons (double/aromatic bond, a
    # heteroatom lone pair, a charge); aromatic rings are 5/6-cycles of such atoms
    pi_bond = (order == 2) | (order == 4)
    cand = (np.bincount(a, pi_bond, N) + np.bincount(b, pi_bond, N) > 0) | np.isin(z, (7, 8, 15, 16, 34)) \
        | (chg != 0)
    cand &= z != 1
    for _ in range(3):  # peel chain ends: an atom with < 2 candidate neighbours is in no ring
        e_ok = cand[a] & cand[b]
        cand &= (np.bincount(a, e_ok, N) + np.bincount(b, e_ok, N)) >= 2
    mem, L = _small_cycles(N, a, b, cand)
    R = len(mem)
    ring_m = np.searchsorted(aoff, mem[:, 0], side="right") - 1 if R else np.zeros(0, np.int64)
    in_ring = np.zeros(N, bool)
    in_ring[mem[mem >= 0]] = True
    ring_nb = in_ring[b], in_ring[a]
    dbl = order == 2
    aro_t = order == 4
    # double (or aromatic-type) bond to a ring atom / to a non-ring atom, per atom
    to_ring = np.bincount(a, (dbl | aro_t) & ring_nb[0], N) + np.bincount(b, (dbl | aro_t) & ring_nb[1], N)
    exo = np.bincount(a, dbl & ~ring_nb[0], N) + np.bincount(b, dbl & ~ring_nb[1], N)
    # hydrogen counts (explicit neighbours + implicit from a default-valence model)
    H = z == 1
    bval = np.where(order == 4, 1.5, order.astype(np.float64))
    explicit_val = np.floor(np.bincount(a, bval, N) + np.bincount(b, bval, N) + 1e-6)
    dv = _DEFAULT_VALENCE[z].astype(np.int64)
    dv = np.where(_CHARGE_ADDS[z], dv + chg, np.where(_CHARGE_SUBS[z], dv - np.abs(chg), dv))
    implicit = np.where(_DEFAULT_VALENCE[z] > 0, np.maximum(0, dv - explicit_val), 0)
    nH = np.bincount(a, H[b], N) + np.bincount(b, H[a], N)
    totH = nH + implicit
    heavy_deg = np.bincount(a, ~H[b], N) + np.bincount(b, ~H[a], N)
    X = heavy_deg + totH

    X0 = X
    deg0 = np.bincount(a, np.ones(len(a)), N) + np.bincount(b, np.ones(len(b)), N)

    aromatic = np.zeros(N, bool)
    arom = np.zeros(R, bool)
    arom_bond = np.zeros(len(key), bool)
    if R and len(skey):
        valid_m = mem >= 0
        nxt = mem[np.arange(R)[:, None], (np.arange(8)[None, :] + 1) % L[:, None]]
        m0 = np.where(valid_m, mem, 0)
        e = np.minimum(m0, np.where(valid_m, nxt, 0)) * N + np.maximum(m0, np.where(valid_m, nxt, 0))
        pos = np.minimum(np.searchsorted(skey, e), len(skey) - 1)
        found = (skey[pos] == e) | ~valid_m
        eo = np.where(valid_m, sorder[pos], 4)
        # Hückel count per ring: pi electrons each member brings
        prev_eo = eo[np.arange(R)[:, None], (np.arange(8)[None, :] - 1) % L[:, None]]
        in_dbl = ((eo == 2) | (prev_eo == 2)) & valid_m
        fused_dbl = (to_ring[m0] > 0) & ~in_dbl
        exo_dbl = exo[m0] > 0
        zc, cc = z[m0], chg[m0]
        lone_pair = (((zc == 7) | (zc == 15)) & (X0[m0] == 3) & (cc == 0)) \
            | (np.isin(zc, (8, 16, 34)) & (cc == 0) & (deg0[m0] == 2)) | (((zc == 6) | (zc == 7)) & (cc == -1))
        empty = ((zc == 6) & (cc == 1)) | exo_dbl
        e_pi = np.where(in_dbl | fused_dbl, 1, np.where(lone_pair, 2, 0))
        ok_atom = in_dbl | fused_dbl | lone_pair | empty | ~valid_m
        n_e = np.where(valid_m, e_pi, 0).sum(1)
        arom = found.all(1) & ((eo == 4).all(1) | (ok_atom.all(1) & ((L == 5) | (L == 6)) & (n_e % 4 == 2)))
        aromatic[mem[arom][valid_m[arom]]] = True
        arom_bond = np.isin(key, e[arom][valid_m[arom]])
    # aromatic rings per molecule, local indices
    if R:
        ar_mem, ar_m = mem[arom], ring_m[arom]
        ar_loc = np.where(ar_mem >= 0, ar_mem - aoff[ar_m][:, None], -1)
        split_at = np.searchsorted(ar_m, np.arange(1, len(items)))
        arom_rings = np.split(ar_loc, split_at)
    else:
        arom_rings = [np.zeros((0, 8), np.int64)] * len(items)

    # directed edges for neighbour rules
    src, dst = np.r_[a, b], np.r_[b, a]
    so = np.r_[order, order]
    sab = np.r_[arom_bond, arom_bond]
    single = (so == 1) & ~sab
    double = (so == 2) & ~sab
    dbl_osn = np.bincount(src, double & np.isin(z[dst], (7, 8, 16)), N) > 0  # X=O, X=S, X=N
    nh_single = np.bincount(src, single & (z[dst] == 7) & (totH[dst] > 0), N) > 0
    amide_n = np.bincount(src, single & np.isin(z[dst], (6, 15, 16)) & dbl_osn[dst], N) > 0
    n_to_arom = np.bincount(src, single & aromatic[dst], N) > 0
    amidine_imine = np.bincount(src, double & (z[dst] == 6) & nh_single[dst], N) > 0
    non_ch_nbr = np.bincount(src, ~np.isin(z[dst], (1, 6)), N) > 0

    isN, isO = z == 7, z == 8
    donor = (isN | isO) & (totH > 0)
    acceptor = (isO & ((chg == 0) | (chg == -1))) | (
        isN & (chg == 0) & (((X <= 2) & ~amidine_imine) | ((X == 3) & ~aromatic & ~amide_n & ~n_to_arom)))
    bits = np.zeros(N, np.uint8)
    bits[donor] |= DONOR
    bits[acceptor] |= ACCEPTOR
    bits[(z == 6) & ~non_ch_nbr] |= HYDROPHOBIC
    bits[chg > 0] |= POSITIVE
    bits[chg < 0] |= NEGATIVE
    bits |= _HALOGEN_BITS[z]
    rad = _radius_table()[z]
    out: list[_Topology | None] = []
    for m, it in enumerate(items):
        if bad_mol[m]:
            out.append(None)
            continue
        sl = slice(int(aoff[m]), int(aoff[m] + na[m]))
        out.append(_Topology(bits[sl], arom_rings[m], ~H[sl], rad[sl], it.key))
    return out


def type_chunk(chunk: Chunk, keep_tags: bool = False) -> PoseBatch:
    """Parse and type every record of ``chunk`` (see module docstring); failures are kept per row.

    A record with the same title and V2000 connection table as the previous one (another pose of the
    same molecule) reuses its typing and only has its coordinates parsed.

    Per-record Python work is kept to RDKit calls and list appends; all array assembly (feature
    selection, ring centroids, pose ids) happens once per chunk.
    """
    from rdkit import Chem

    global _LOG
    if _LOG is None:
        _LOG = _RDKitLog()
    # the same split as the chunker's, so that row i is record chunk.start + i
    raw, tail = _split_records(chunk.data, chunk.fmt)
    if tail.strip():
        raw.append(tail)
    records = [r.decode("utf-8", errors="replace") for r in raw[: chunk.n]]
    records += [""] * max(0, chunk.n - len(records))
    sdf = chunk.fmt == "sdf"
    P = chunk.n
    mols = _parse_all(chunk, records) if sdf else None

    index = np.arange(chunk.start, chunk.start + P, dtype=np.int64)
    names, ok, errors, tags = [], np.zeros(P, bool), {}, ([] if keep_tags else None)
    # pass 1: per record, parse and decide: error, reuse of the previous topology, or new topology
    rows: list = []  # (row, xyz, topology or ("pending", k))
    pending: list[_Pending] = []
    prev = None  # _Topology, or ("pending", k), of the previous record
    prev_title, prev_lines, prev_key = None, None, None
    for i, rec in enumerate(records):
        if sdf:
            nl = rec.find("\n")
            title = (rec if nl < 0 else rec[:nl]).strip()
        else:
            title = _mol2_title(rec)
        names.append(title or f"#{chunk.start + i}")
        if keep_tags:
            tags.append(_sd_tags(rec) if sdf else {})
        if not rec.strip():
            errors[i] = "empty record"
            prev = None
            continue
        lines = rec.split("\n") if sdf else None
        key_info = key = None
        # another pose of the previous molecule? compare connection tables only then
        if sdf and title and prev is not None and title == prev_title:
            if prev_key is None and prev_lines is not None:
                pk = _v2000_topology_key(prev_lines)
                prev_key = None if pk is None else (prev_title, pk[0], pk[1])
            key_info = _v2000_topology_key(lines)
            key = None if key_info is None else (title, key_info[0], key_info[1])
            if key is not None and key == prev_key:
                try:
                    rows.append((i, _v2000_coords(key_info[2]), prev))
                    continue
                except ValueError:
                    pass
        if sdf:
            ent = mols[i]
            if ent is None:
                errors[i] = mols.reasons.get(i, "RDKit cannot parse the record")
                prev = None
                continue
            xyz, n_atoms, n_conf, mol = ent
        else:
            mol = Chem.MolFromMol2Block(rec, sanitize=False, removeHs=False)
            if mol is None:
                errors[i] = _LOG.last("RDKit cannot parse the record")
                prev = None
                continue
            n_atoms, n_conf = mol.GetNumAtoms(), mol.GetNumConformers()
            xyz = mol.GetConformer().GetPositions() if n_conf else None
        if n_atoms == 0 or n_conf == 0:
            errors[i] = "no atoms" if n_atoms == 0 else "no coordinates"
            prev = None
            continue
        prev_title, prev_lines, prev_key = title, lines, key
        if sdf and len(lines) > 3 and "V2000" in lines[3]:
            try:
                na, nb = int(lines[3][0:3]), int(lines[3][3:6])
                charges = _mchg(lines[4 + na + nb:], na)
            except ValueError:
                na = -1
            if na == n_atoms and len(lines) >= 4 + na + nb:
                pending.append(_Pending(i, rec, lines[4:4 + na], lines[4 + na:4 + na + nb], charges, None))
                prev = ("pending", len(pending) - 1)
                rows.append((i, xyz, prev))
                continue
        if mol is None:  # freed by _parse_all (V2000 the array typer declined): parse again
            mol = Chem.MolFromMolBlock(rec, sanitize=False, removeHs=False)
        try:
            topo = _type_mol(mol, None, None)
        except Exception as e:  # noqa: BLE001 - RDKit raises many types for broken graphs
            errors[i] = f"RDKit cannot type the molecule ({type(e).__name__}: {e})"
            prev = None
            continue
        prev = topo
        rows.append((i, xyz, topo))

    # pass 2: type all new V2000 topologies of the chunk in one array pass
    typed = _type_v2000_batch(pending)
    for k, t in enumerate(typed):
        if t is None:  # malformed bond table for the array typer: RDKit SMARTS instead
            it = pending[k]
            try:
                typed[k] = _type_mol(Chem.MolFromMolBlock(it.text, sanitize=False, removeHs=False), None, it.key)
            except Exception as e:  # noqa: BLE001
                errors[it.row] = f"RDKit cannot type the molecule ({type(e).__name__}: {e})"

    # pass 3: assemble flat arrays
    xyz_l, bits_l, heavy_l, rad_l, pose_l, ring_l, ring_pose = [], [], [], [], [], [], []
    offset = 0
    for i, xyz, topo in rows:
        if isinstance(topo, tuple):
            topo = typed[topo[1]]
            if topo is None:
                continue
        if len(xyz) != len(topo.atom_bits):
            errors[i] = "atom count differs from the molecule's first pose"
            continue
        ok[i] = True
        n = len(xyz)
        xyz_l.append(xyz)
        bits_l.append(topo.atom_bits)
        heavy_l.append(topo.heavy)
        rad_l.append(topo.radius)
        pose_l.append(n)
        if len(topo.rings):
            ring_l.append(np.where(topo.rings >= 0, topo.rings + offset, -1))
            ring_pose.append(np.full(len(topo.rings), i, np.int32))
        offset += n

    if xyz_l:
        xyz = np.concatenate(xyz_l)
        bits = np.concatenate(bits_l)
        heavy = np.concatenate(heavy_l)
        rad = np.concatenate(rad_l)
        pose = np.repeat(np.flatnonzero(ok).astype(np.int32), pose_l)
    else:
        xyz, bits = np.zeros((0, 3)), np.zeros(0, np.uint8)
        heavy, rad, pose = np.zeros(0, bool), np.zeros(0, np.float32), np.zeros(0, np.int32)
    # ring centroids first (ring members index the atoms before any are dropped)
    in_ring = np.zeros(len(xyz), bool)
    if ring_l:
        members = np.concatenate(ring_l)
        r_pose = np.concatenate(ring_pose)
        m = members >= 0
        cen = (xyz[np.where(m, members, 0)] * m[..., None]).sum(1) / m.sum(1, keepdims=True)
        in_ring[members[m]] = True
    else:
        cen, r_pose = np.zeros((0, 3)), np.zeros(0, np.int32)
    bad = ~np.all(np.isfinite(xyz), axis=1)
    if bad.any():
        for i in np.unique(pose[bad]):
            errors[int(i)] = "non-finite coordinates"
            ok[i] = False
        keep = ok[pose]
        xyz, bits, heavy, rad, pose = xyz[keep], bits[keep], heavy[keep], rad[keep], pose[keep]
        in_ring = in_ring[keep]
        cen, r_pose = cen[ok[r_pose]], r_pose[ok[r_pose]]
    sel = bits != 0
    pt_xyz = np.concatenate([xyz[sel], cen])
    pt_bits = np.concatenate([bits[sel], np.full(len(cen), RING, np.uint8)])
    pt_pose = np.concatenate([pose[sel], r_pose])
    n_heavy = np.bincount(pose[heavy], minlength=P).astype(np.int32)
    return PoseBatch(
        index=index, name=names, ok=ok, errors=errors,
        pt_xyz=pt_xyz, pt_bits=pt_bits, pt_pose=pt_pose.astype(np.int32),
        hv_xyz=xyz[heavy], hv_rad=rad[heavy], hv_pose=pose[heavy], n_heavy=n_heavy, tags=tags,
        hv_bits=bits[heavy], hv_ring=in_ring[heavy],
    )


def read_bytes_records(data: bytes, fmt: str = "sdf") -> int:
    """Number of records in ``data`` (used by tests and benchmarks)."""
    recs, tail = _split_records(data, fmt)
    return len(recs) + (1 if tail.strip() else 0)


__all__ = [
    "Chunk", "PoseBatch", "iter_chunks", "type_chunk", "open_library", "library_format", "vdw_radii",
    "FEATURE_BITS", "FEATURE_SMARTS",
]
