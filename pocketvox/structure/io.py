"""Reading protein-ligand complexes into typed :class:`AtomTable` objects.

Macromolecules: PDB and mmCIF, plain or gzipped. PDB files are read in one compiled pass over
their bytes (:mod:`._pdbscan`, numba; ~0.2 ms for a 5,000-atom entry), text columns kept as
integer codes into small vocabularies; records it does not recognise fall back on a NumPy
column slicer that gives the same sites (and the error messages). mmCIF files are read with
gemmi's CIF parser, whose ``_atom_site`` columns come out as whole lists. A test checks both
paths against ``gemmi.read_structure`` atom for atom.

Choices made while reading (documented because they change what the profiler sees):

* first model, unless ``model`` says otherwise;
* alternate locations: per residue, the conformer with the highest mean occupancy (the first on
  ties) is kept, as well as atoms without an altloc;
* hydrogens (H, D) leave the atom rows: typing and detection use heavy-atom geometry; the file's
  hydrogens ride along on the table (``AtomTable.h_coords``, each with its heavy atom) and decide the
  hydrogen-bond donors and angles where given, as Open Babel (PLIP) keeps them;
* waters are dropped;
* the receptor is the polymer (ATOM records, plus HETATM residues linked into the chain by a
  peptide bond, e.g. MSE) and metal ions; other hetero groups (additives, other ligands) are not
  part of it;
* ligands: a HETATM residue (``RES:CHAIN:NUM``), chosen automatically when not named, or a
  separate SDF/MOL2/PDB file read with RDKit. Bond orders for HETATM ligands come from a SMILES
  template when given, else from CONECT records plus geometry (RDKit's ``DetermineBonds``).
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pocketvox.errors import InputFileError, LigandError
from pocketvox.structure.atoms import AtomTable, Complex

#: Residue names treated as water and dropped.
WATER_NAMES = frozenset({"HOH", "WAT", "DOD", "H2O", "SOL", "TIP", "TIP3", "SPC"})

#: Crystallisation additives, buffers and common small hetero groups never chosen as the ligand
#: automatically (they can still be named with ``--ligand``). Drawn from the lists used by PLIP,
#: PDBbind and BioLiP for "artifacts".
ADDITIVES = frozenset(
    """GOL EDO SO4 PO4 DMS PEG PGE PG4 1PE P6G ACT ACY ACE FMT EOH MPD MES EPE TRS CIT
    BME DTT IMD NO3 SCN CL BR IOD NA K MG CA ZN MN FE FE2 CO NI CU CD HG SR CS LI BA
    NH4 AZI CO3 PEO PE4 12P 15P 2PE 7PE P33 PE5 PE8 XPE DIO BU3 IPA IPH MRD MOH DOX
    TAM HEZ BOG LDA SDS UNX UNL DMF ACN NHE CXS TLA MLI SIN MLA OXL FLC GLC SUC TRE
    BGC BMA MAN NAG NDG FUC GAL SO3 SUL CAC ARS BCT PEG PG0 HTO CPS DTU DTV PGO PGR""".split()
)

#: Elements treated as metal ions (not covalently bonded; typed ``metal``).
METALS = frozenset(
    "LI NA K RB CS BE MG CA SR BA AL GA IN TL SN PB BI SC TI V CR MN FE CO NI CU ZN Y ZR MO "
    "RU RH PD AG CD W RE OS IR PT AU HG LA CE PR ND SM EU GD TB DY HO ER YB LU".split()
)

#: Covalent radii in Å (Cordero et al., Dalton Trans. 2008, 2832); used to perceive bonds from
#: distances: bonded when d <= r_i + r_j + BOND_TOLERANCE.
COVALENT_RADII = {
    "H": 0.31, "B": 0.84, "C": 0.76, "N": 0.71, "O": 0.66, "F": 0.57, "SI": 1.11, "P": 1.07,
    "S": 1.05, "CL": 1.02, "SE": 1.20, "BR": 1.20, "I": 1.39, "AS": 1.19, "TE": 1.38,
}
#: Å added to the sum of covalent radii when perceiving bonds (the tolerance Open Babel and RDKit
#: use is 0.4-0.45 Å).
BOND_TOLERANCE = 0.45
#: Bonds shorter than this (Å) are overlaps (clashes, unresolved altlocs), not bonds.
MIN_BOND = 0.4

_AMINO_ACIDS = frozenset(
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL "
    "HID HIE HIP HSD HSE HSP CYX ASH GLH LYN SEC PYL MSE".split()
)

_LIGAND_RE = re.compile(r"^\s*([^:\s]{1,5}):([^:\s]{1,4}):(-?\d+)([A-Za-z]?)\s*$")


# ---------------------------------------------------------------------------------------- files
def read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, gunzipped when needed; one-line errors for missing/empty/binary files."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    if p.is_dir():
        raise InputFileError(f"{p}: is a directory, expected a structure file")
    data = p.read_bytes()
    if not data:
        raise InputFileError(f"{p}: file is empty")
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise InputFileError(f"{p}: corrupt or truncated gzip file ({e})") from None
        if not data:
            raise InputFileError(f"{p}: gzip file is empty")
    head = data[:65536]
    if b"\x00" in head or _binary_fraction(head) > 0.05:
        raise InputFileError(f"{p}: binary data, not a text structure file")
    return data


#: Bytes of text files: tab, newlines, form feed, printable ASCII and anything >= 128 (latin-1, UTF-8).
_TEXT_BYTES = bytes([9, 10, 11, 12, 13, *range(32, 127), *range(128, 256)])


def _binary_fraction(b: bytes) -> float:
    """Fraction of control bytes (other than whitespace) in ``b``."""
    if not b:
        return 0.0
    # deleting the text bytes leaves the others: one C-level pass, no arrays
    return len(b.translate(None, _TEXT_BYTES)) / len(b)


def _stem_format(path: str | os.PathLike) -> str:
    name = str(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.rsplit(".", 1)[-1] if "." in name else ""


# ------------------------------------------------------------------------------ raw atom sites
class _Vocab:
    """Distinct strings of a text column (``strings``, a NumPy str array) and their codes."""

    __slots__ = ("strings", "_index")

    def __init__(self, strings: np.ndarray):
        self.strings = strings
        self._index: dict[str, int] | None = None

    @property
    def index(self) -> dict[str, int]:
        if self._index is None:
            self._index = {v: i for i, v in enumerate(self.strings.tolist())}
        return self._index

    def code(self, value: str) -> int:
        """Code of ``value``, -1 when absent."""
        return self.index.get(value, -1)

    def lut(self, values) -> np.ndarray:
        """(len(vocab),) bool: which codes stand for one of ``values``."""
        out = np.zeros(len(self.strings), bool)
        index = self.index
        out[[index[v] for v in values if v in index]] = True
        return out


#: byte -> one-character str, blank for a space (single-character PDB columns decode by lookup)
_CHAR_LUT = np.array([("" if i == 32 else chr(i)) for i in range(256)], dtype="<U1")
_CHAR_VOCAB = _Vocab(_CHAR_LUT)

_TEXT = ("name", "altloc", "res_name", "chain", "icode", "element")
_PER_ATOM = ("hetero", "serial", "res_num", "coords", "occupancy", "model")


class _Text:
    """A text column of :class:`_Sites`: decoded from its codes on first access."""

    def __set_name__(self, owner, name):
        self.key = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        v = obj._decoded.get(self.key)
        if v is None:
            v = obj.vocab[self.key].strings[obj.codes[self.key]]
            obj._decoded[self.key] = v
        return v


class _Sites:
    """Atom sites as parsed, before cleaning (all per-atom arrays length N).

    Numeric columns: ``hetero`` (HETATM record), ``serial``, ``res_num``, ``coords`` (N, 3) Å,
    ``occupancy``, ``model`` (0-based); ``conect`` (M, 2) serial pairs. Text columns (``name``,
    ``altloc``, ``res_name``, ``chain``, ``icode``, ``element``) are integer ``codes[col]`` into a
    small ``vocab[col]`` of distinct strings, and read as str arrays (decoded once, on first use):
    comparisons and masks work on the codes, so string arrays are built only where needed.
    """

    name = _Text()
    altloc = _Text()
    res_name = _Text()
    chain = _Text()
    icode = _Text()
    element = _Text()

    def __init__(self, hetero, serial, res_num, coords, occupancy, model, conect, codes, vocab):
        self.hetero = hetero
        self.serial = serial
        self.res_num = res_num
        self.coords = coords
        self.occupancy = occupancy
        self.model = model
        self.conect = conect
        self.codes: dict[str, np.ndarray] = codes
        self.vocab: dict[str, _Vocab] = vocab
        self._decoded: dict[str, np.ndarray] = {}
        self._rid: np.ndarray | None = None  # residue index, when cleaning has computed it
        # hydrogens the file gave for these (heavy) rows: (coords (H, 3), row (H,)), set by cleaning
        self._hydrogens: tuple[np.ndarray, np.ndarray] = (np.zeros((0, 3)), np.zeros(0, np.int32))

    @classmethod
    def from_strings(cls, *, record, serial, name, altloc, res_name, chain, res_num, icode, coords, occupancy,
                     element, model, conect) -> _Sites:
        """Sites from per-atom str arrays (the NumPy and mmCIF readers)."""
        codes, vocab = {}, {}
        for key, col in zip(_TEXT, (name, altloc, res_name, chain, icode, element)):
            uniq, inv = np.unique(col, return_inverse=True)
            codes[key], vocab[key] = inv.reshape(-1), _Vocab(uniq)
        return cls(np.asarray(record) == "HETATM", serial, res_num, coords, occupancy, model, conect, codes, vocab)

    @property
    def record(self) -> np.ndarray:
        """(N,) str: 'ATOM' / 'HETATM'."""
        return np.where(self.hetero, "HETATM", "ATOM")

    def isin(self, col: str, values) -> np.ndarray:
        """(N,) bool: text column ``col`` is one of ``values`` (compared on codes)."""
        return self.vocab[col].lut(values)[self.codes[col]]

    def text(self, col: str, row: int) -> str:
        return str(self.vocab[col].strings[self.codes[col][row]])

    def take(self, m: np.ndarray) -> _Sites:
        """The sites at rows ``m`` (indices or a bool mask)."""
        from pocketvox.structure._pdbscan import gather_sites

        m = np.asarray(m)
        if m.dtype == bool:
            m = np.flatnonzero(m)
        cols = gather_sites(m, *(np.ascontiguousarray(getattr(self, k)) for k in _PER_ATOM),
                            *(np.ascontiguousarray(self.codes[k]) for k in _TEXT))
        return _Sites(*cols[:len(_PER_ATOM)], self.conect, dict(zip(_TEXT, cols[len(_PER_ATOM):])), self.vocab)

    def __len__(self) -> int:
        return len(self.serial)


def _col(u: np.ndarray, a: int, b: int, upper: bool = False) -> np.ndarray:
    """Fixed-width columns [a, b) of a (N, 80) uint8 record array as stripped str. Only the few
    distinct values are decoded (atom and residue names repeat), then mapped back."""
    raw = np.ascontiguousarray(u[:, a:b]).view(f"S{b - a}").ravel()
    uniq, inv = np.unique(raw, return_inverse=True)
    vals = [x.strip().decode("latin-1") for x in uniq.tolist()]
    if upper:
        vals = [v.upper() for v in vals]
    return np.array(vals, dtype=f"<U{b - a}")[inv]


def _char_col(u: np.ndarray, a: int) -> np.ndarray:
    """One-character column ``a`` of an (N, 80) uint8 record array as str ('' where blank)."""
    return _CHAR_LUT[u[:, a]]


def _to_float(u: np.ndarray, a: int, b: int, path, what: str) -> np.ndarray:
    raw = np.ascontiguousarray(u[:, a:b]).view(f"S{b - a}").ravel()
    try:
        return raw.astype(np.float64)
    except ValueError:
        bad = next(i for i, s in enumerate(raw) if not _is_number(s))
        raise InputFileError(f"{path}: malformed {what} in atom record {bad + 1} ({raw[bad]!r})") from None


def _is_number(s: bytes) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


class _Lines:
    """Every line of a text file located once (vectorised): start offsets, lengths, first 6 bytes."""

    def __init__(self, data: bytes):
        buf = np.frombuffer(data, np.uint8)
        nl = np.flatnonzero(buf == 10)
        self.starts = np.concatenate([[0], nl + 1])
        ends = np.concatenate([nl, [len(buf)]])
        self.padded = np.concatenate([buf, np.full(86, 32, np.uint8)])
        cr = (ends > self.starts) & (self.padded[np.maximum(ends - 1, 0)] == 13)
        self.lengths = ends - self.starts - cr
        # each line's first 4 bytes as one integer: record types compare in one vectorised step
        self.head4 = np.ascontiguousarray(self.padded[self.starts[:, None] + np.arange(4)]).view("<u4").ravel()

    def select(self, kinds: tuple[bytes, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lines whose first 4 bytes are one of ``kinds`` (4-byte prefixes: 'ATOM' also catches
        'ATOM100000', serials past 99999): (N, 80) uint8 padded with spaces, line numbers, lengths."""
        codes = np.frombuffer(b"".join(k[:4] for k in kinds), "<u4")
        sel = np.isin(self.head4, codes) if len(codes) > 1 else self.head4 == codes[0]
        idx = np.flatnonzero(sel)
        lengths = self.lengths[idx]
        # rows of 80 bytes starting at each line: a strided view of the buffer, gathered by start
        rows = np.ndarray((len(self.padded) - 80,), dtype="S80", buffer=self.padded.data, strides=(1,))
        rec = rows[self.starts[idx]].view(np.uint8).reshape(len(idx), 80).copy()
        short = np.flatnonzero(lengths < 80)
        if len(short):
            sub = rec[short]
            sub[np.arange(80)[None, :] >= lengths[short, None]] = 32
            rec[short] = sub
        return rec, idx, lengths


def _records(data: bytes, kinds: tuple[bytes, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _Lines(data).select(kinds)


def parse_pdb(data: bytes, path="<pdb>", model: int | None = None) -> _Sites:
    """ATOM/HETATM/MODEL/CONECT records in one compiled pass over the bytes (:mod:`._pdbscan`);
    files it does not fully recognise (and bad input, for its error message) go through the
    vectorised NumPy parser :func:`_parse_pdb_numpy`, which gives the same sites.

    ``model`` (1-based) keeps one model of a multi-model file before any column is parsed (NMR
    ensembles then cost one model, not twenty); None parses every model (:func:`_clean` picks later).
    """
    if model is not None and int(model) < 1:
        return _parse_pdb_numpy(data, path, model)
    from pocketvox.structure._pdbscan import scan_pdb

    (status, hetero, coords, res_num, serial, occupancy, models, altloc, chain, icode, name_id, name_vals,
     res_id, res_vals, el_id, el_vals, el_missing, starts, conect, wide_res) = scan_pdb(
        np.frombuffer(data, np.uint8), np.frombuffer(data, np.uint64, count=len(data) // 8),
        -1 if model is None else int(model))
    if status != 0:
        return _parse_pdb_numpy(data, path, model)
    codes = {"name": name_id, "altloc": altloc, "res_name": res_id, "chain": chain, "icode": icode,
             "element": el_id}
    vocab = {"name": _packed_vocab(name_vals, "<U4"), "altloc": _CHAR_VOCAB,
             "res_name": _packed_vocab(res_vals, "<U4" if wide_res else "<U3"), "chain": _CHAR_VOCAB,
             "icode": _CHAR_VOCAB, "element": _packed_vocab(el_vals, "<U2")}
    sites = _Sites(hetero, serial, res_num, coords, occupancy, models, conect, codes, vocab)
    if el_missing.any():
        # no element column: guessed from the atom name, as the NumPy parser does
        rows = np.flatnonzero(el_missing)
        first2 = np.array([data[s + 12:s + 14].strip().decode("latin-1").upper() for s in starts[rows].tolist()])
        element = sites.element.copy()
        element[rows] = _element_from_name(sites.name[rows], first2)
        uniq, inv = np.unique(element, return_inverse=True)
        sites.codes["element"], sites.vocab["element"] = inv.reshape(-1), _Vocab(uniq)
        sites._decoded.pop("element", None)
    return sites


def _packed_vocab(vals: np.ndarray, dtype: str) -> _Vocab:
    """Strings from stripped ASCII text packed little-endian into integers (at most 4 bytes)."""
    return _Vocab(vals.astype("<u4").view("S4").astype(dtype))


def _parse_pdb_numpy(data: bytes, path="<pdb>", model: int | None = None) -> _Sites:
    """Vectorised fixed-column parse of ATOM/HETATM/MODEL/CONECT records (see :func:`parse_pdb`)."""
    lines = _Lines(data)
    u, line_no, lengths = lines.select((b"ATOM", b"HETA"))
    if len(u) == 0:
        raise InputFileError(f"{path}: no ATOM/HETATM records (not a PDB file, or empty)")
    _, model_lines, _ = lines.select((b"MODE",))
    model_starts = model_lines.tolist()
    if model is not None and len(model_starts) > 1:
        m_of = np.maximum(np.searchsorted(model_lines, line_no) - 1, 0)
        if int(model) - 1 not in set(np.unique(m_of).tolist()):
            raise InputFileError(f"{path}: model {model} not present ({len(model_starts)} models)")
        keep_rows = m_of == int(model) - 1
        u, line_no, lengths = u[keep_rows], line_no[keep_rows], lengths[keep_rows]
    short = np.flatnonzero(lengths < 54)
    if len(short):
        raise InputFileError(f"{path}: truncated atom record at line {int(line_no[short[0]]) + 1}")
    coords = np.stack(
        [_to_float(u, 30, 38, path, "x"), _to_float(u, 38, 46, path, "y"), _to_float(u, 46, 54, path, "z")], 1
    )
    altloc = _char_col(u, 16)
    occupancy = np.ones(len(u))
    if (altloc != "").any():  # occupancies only decide between alternate conformers
        occ_raw = np.char.strip(np.ascontiguousarray(u[:, 54:60]).view("S6").ravel())
        try:
            occupancy = np.where(occ_raw == b"", b"1", occ_raw).astype(np.float64)
        except ValueError:
            pass
    resnum_raw = np.char.strip(np.ascontiguousarray(u[:, 22:26]).view("S4").ravel())
    try:
        res_num = resnum_raw.astype(np.int64).astype(np.int32)
    except ValueError:
        # hybrid-36 or garbage: keep going with sequential numbers rather than fail
        res_num = np.array([int(x) if x.strip().lstrip(b"-").isdigit() else 0 for x in resnum_raw], np.int32)
    conect_rec, _, _ = lines.select((b"CONE",))
    serial = np.arange(1, len(u) + 1, dtype=np.int32)
    if len(conect_rec):  # serials only matter to resolve CONECT records
        try:
            serial = np.ascontiguousarray(u[:, 6:11]).view("S5").ravel().astype(np.int64).astype(np.int32)
        except ValueError:
            pass
    name = _col(u, 12, 16)
    element = _col(u, 76, 78, upper=True)
    missing = element == ""
    if missing.any():
        element[missing] = _element_from_name(name[missing], np.char.strip(_col(u, 12, 14)[missing]))
    model = np.zeros(len(u), np.int32)
    if model_starts:
        # atoms before the first MODEL record (rare) count as model 1 too
        model = np.maximum(np.searchsorted(np.asarray(model_starts), line_no) - 1, 0).astype(np.int32)
    conect = _parse_conect(conect_rec)
    return _Sites.from_strings(
        record=np.where(u[:, 0] == ord("H"), "HETATM", "ATOM"),
        serial=serial,
        name=name,
        altloc=altloc,
        res_name=_col(u, 17, 20 if not (u[:, 20] != ord(" ")).any() else 21),
        chain=_char_col(u, 21),
        res_num=res_num,
        icode=_char_col(u, 26),
        coords=coords,
        occupancy=occupancy,
        element=element,
        model=model,
        conect=conect,
    )


def _parse_conect(rec: np.ndarray) -> np.ndarray:
    """(M, 2) serial pairs from CONECT records (columns 7-31: atom, then up to four partners)."""
    if len(rec) == 0:
        return np.zeros((0, 2), np.int64)
    cols = []
    for i in range(6, 31, 5):
        f = rec[:, i : i + 5]
        blank = (f == 32).all(1)
        raw = np.where(blank[:, None], np.uint8(48), f).copy().view("S5").ravel()
        try:
            v = raw.astype(np.int64)
        except ValueError:  # unusual layout: parse field by field
            v = np.array([int(x) if x.strip().isdigit() else 0 for x in raw], np.int64)
        cols.append(np.where(blank, -1, v))
    c = np.stack(cols, 1)
    pairs = np.stack([np.repeat(c[:, 0], 4), c[:, 1:].ravel()], 1)
    return pairs[(pairs >= 0).all(1)]


def _element_from_name(name: np.ndarray, first2: np.ndarray) -> np.ndarray:
    """Element guess for records without an element column: PDB convention puts a one-letter
    element in column 14 (name left-padded), two-letter ones in columns 13-14."""
    out = []
    for n, f in zip(name, first2):
        two = f.upper()
        if len(two) == 2 and two in METALS | {"CL", "BR", "SE"} and not n.startswith(" "):
            out.append(two)
        else:
            letters = "".join(c for c in n if c.isalpha())
            out.append(letters[:1].upper() or "X")
    return np.array(out, "<U2")


def parse_mmcif(data: bytes, path="<cif>") -> _Sites:
    """``_atom_site`` loop through gemmi's CIF parser, column by column."""
    import gemmi

    try:
        doc = gemmi.cif.read_string(data.decode("latin-1"))
        block = doc.sole_block() if len(doc) == 1 else doc[0]
    except (RuntimeError, ValueError, IndexError) as e:
        raise InputFileError(f"{path}: not a readable mmCIF file ({str(e).splitlines()[0][:120]})") from None
    # gemmi's find() needs a required first tag: the coordinates come first, the rest optional
    tags = [
        "Cartn_x", "Cartn_y", "Cartn_z", "group_PDB", "id", "type_symbol", "auth_atom_id",
        "label_alt_id", "auth_comp_id", "auth_asym_id", "auth_seq_id", "pdbx_PDB_ins_code",
        "occupancy", "pdbx_PDB_model_num", "label_atom_id", "label_comp_id", "label_asym_id",
        "label_seq_id",
    ]
    table = block.find("_atom_site.", tags[:3] + [("?" + t) for t in tags[3:]])
    if len(table) == 0:
        raise InputFileError(f"{path}: mmCIF file has no _atom_site records with coordinates")
    ix = {t: i for i, t in enumerate(tags)}

    def col(tag, default=""):
        i = ix[tag]
        if not table.has_column(i):
            alt_tag = tag.replace("auth_", "label_")
            if alt_tag != tag and alt_tag in ix and table.has_column(ix[alt_tag]):
                i = ix[alt_tag]
            else:
                return np.full(len(table), default, dtype=object)
        return np.array([gemmi.cif.as_string(v) for v in table.column(i)], dtype=object)

    def num(tag, default):
        c = col(tag, str(default))
        c = np.where(np.isin(c, ["?", "."]), str(default), c)
        try:
            return c.astype(np.float64)
        except ValueError:
            raise InputFileError(f"{path}: malformed numeric column _atom_site.{tag}") from None

    alt = col("label_alt_id")
    alt = np.where(np.isin(alt, ["?", "."]), "", alt)
    ins = col("pdbx_PDB_ins_code")
    ins = np.where(np.isin(ins, ["?", "."]), "", ins)
    models = num("pdbx_PDB_model_num", 1).astype(np.int64)
    _, model_idx = np.unique(models, return_inverse=True)
    return _Sites.from_strings(
        record=np.where(col("group_PDB", "ATOM") == "HETATM", "HETATM", "ATOM"),
        serial=num("id", 0).astype(np.int32),
        name=col("auth_atom_id").astype(str),
        altloc=alt.astype(str),
        res_name=col("auth_comp_id").astype(str),
        chain=col("auth_asym_id").astype(str),
        res_num=num("auth_seq_id", 0).astype(np.int32),
        icode=ins.astype(str),
        coords=np.stack([num("Cartn_x", 0), num("Cartn_y", 0), num("Cartn_z", 0)], 1),
        occupancy=num("occupancy", 1),
        element=np.char.upper(col("type_symbol").astype(str)),
        model=model_idx.astype(np.int32),
        conect=np.zeros((0, 2), np.int64),
    )


def parse_structure(path: str | os.PathLike, data: bytes | None = None, model: int | None = None) -> _Sites:
    """Parse a PDB or mmCIF file (gzipped or not), sniffing the content when the suffix is unclear."""
    data = read_bytes(path) if data is None else data
    fmt = _stem_format(path)

    def looks_cif():  # only sniffed when the suffix does not say (it scans up to 200 kB)
        return data[:4096].lstrip().startswith(b"data_") or data.find(b"_atom_site.", 0, 200000) >= 0

    if fmt in ("cif", "mmcif") or (fmt not in ("pdb", "ent") and looks_cif()):
        return parse_mmcif(data, path)
    if fmt in ("sdf", "mol", "mol2", "smi", "xyz"):
        raise InputFileError(f"{path}: is a small-molecule file; expected a PDB or mmCIF structure")
    return parse_pdb(data, path, model)


# --------------------------------------------------------------------------------- cleaning
def _clean(sites: _Sites, model: int | None, path) -> _Sites:
    """One model, one conformer per residue, no hydrogens, no waters.

    Alternate locations: per residue run (chain, number, insertion code) the conformer with the
    highest mean occupancy (the first on ties) plus atoms without an altloc. Duplicated atom sites
    without altloc labels (some protonation tools write both conformers that way): the first
    occurrence of a name within a residue is kept, as gemmi does.
    """
    from pocketvox.structure._pdbscan import clean_rows

    hydrogen = sites.isin("element", ("H", "D"))
    keep = ~(hydrogen | sites.isin("res_name", WATER_NAMES))
    if len(sites.model) and sites.model.max() > 0:
        m = 0 if model is None else int(model) - 1
        in_model = sites.model == m
        if not in_model.any():
            raise InputFileError(f"{path}: model {model} not present ({len(np.unique(sites.model))} models)")
        keep &= in_model
        hydrogen &= in_model
    c = sites.codes
    rows, rid = clean_rows(np.flatnonzero(keep), c["chain"], sites.res_num, c["icode"], c["res_name"],
                           c["altloc"], sites.vocab["altloc"].code(""), sites.occupancy, c["name"])
    if len(rows) == 0:
        raise InputFileError(f"{path}: no heavy atoms after removing hydrogens and waters")
    out = sites if len(rows) == len(sites) else sites.take(rows)
    out._rid = rid
    out._hydrogens = _given_hydrogens(sites, np.flatnonzero(hydrogen), rows)
    return out


#: Å: a hydrogen belongs to the nearest kept heavy atom within this distance (N-H 1.01, O-H 0.96,
#: C-H 1.09, S-H 1.34 Å).
H_BOND_MAX = 1.4


def _given_hydrogens(sites: _Sites, h_rows: np.ndarray, heavy_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The file's hydrogens that stay with the cleaned model: ``(coords (H, 3) Å, parent (H,))``, the
    parent a position in ``heavy_rows``; a hydrogen of another alternate conformer than its parent's
    is left out."""
    if len(h_rows) == 0 or len(heavy_rows) == 0:
        return np.zeros((0, 3)), np.zeros(0, np.int32)
    from scipy.spatial import cKDTree

    xyz = sites.coords[h_rows]
    d, j = cKDTree(sites.coords[heavy_rows]).query(xyz, distance_upper_bound=H_BOND_MAX)
    ok = np.isfinite(d)
    alt = sites.codes["altloc"]
    h_alt = alt[h_rows]
    ok &= (h_alt == sites.vocab["altloc"].code("")) | (h_alt == alt[heavy_rows[np.where(ok, j, 0)]])
    return xyz[ok], j[ok].astype(np.int32)


def _residue_index(sites: _Sites) -> tuple[np.ndarray, np.ndarray]:
    """Residue id per atom (consecutive runs of chain/num/icode/name) and each residue's first row."""
    n = len(sites)
    c = sites.codes
    change = np.ones(n, bool)
    change[1:] = (
        (c["chain"][1:] != c["chain"][:-1])
        | (sites.res_num[1:] != sites.res_num[:-1])
        | (c["icode"][1:] != c["icode"][:-1])
        | (c["res_name"][1:] != c["res_name"][:-1])
    )
    rid = np.cumsum(change) - 1
    return rid, np.flatnonzero(change)


def perceive_bonds(coords: np.ndarray, element: np.ndarray) -> np.ndarray:
    """Covalent bonds from distances: (M, 2) int32 pairs i < j (metals never bonded)."""
    if len(coords) < 2:
        return np.zeros((0, 2), np.int32)
    radii = np.array([COVALENT_RADII.get(e, 0.0) for e in element.tolist()]) if len(element) < 64 else (
        _radii_lookup(element)
    )
    return _bonds_from_radii(coords, radii)


def _bonds_from_radii(coords: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """(M, 2) int32 pairs i < j, sorted, with MIN_BOND < d <= r_i + r_j + BOND_TOLERANCE."""
    from pocketvox.structure._pdbscan import bond_pairs

    if len(coords) < 2:
        return np.zeros((0, 2), np.int32)
    coords = np.ascontiguousarray(coords, np.float64)
    radii = np.asarray(radii, np.float64)
    cap = 4 * len(coords) + 16
    pairs, count = bond_pairs(coords, radii, BOND_TOLERANCE, MIN_BOND, cap)
    if count > cap:  # more pairs than room for them (overlapping atoms): once more, with room
        pairs, count = bond_pairs(coords, radii, BOND_TOLERANCE, MIN_BOND, count)
    return pairs.astype(np.int32)


def _radii_lookup(element: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(element, return_inverse=True)
    return np.array([COVALENT_RADII.get(e, 0.0) for e in uniq])[inv]


def _site_radii(sites: _Sites) -> np.ndarray:
    """(N,) covalent radius of each site's element (0: never bonded)."""
    strings = sites.vocab["element"].strings.tolist()
    return np.array([COVALENT_RADII.get(e, 0.0) for e in strings])[sites.codes["element"]]


def _name_class(sites: _Sites, names: tuple[str, ...]) -> np.ndarray:
    """(N,) int8: 1 + position of the atom's name in ``names``, 0 for other names."""
    lut = np.zeros(len(sites.vocab["name"].strings), np.int8)
    index = sites.vocab["name"].index
    for k, nm in enumerate(names):
        if nm in index:
            lut[index[nm]] = k + 1
    return lut[sites.codes["name"]]


def _restrict_cross_residue_bonds(bonds: np.ndarray, sites: _Sites, rid: np.ndarray) -> np.ndarray:
    """Between residues keep only peptide (C-N), disulfide (SG-SG) and links into hetero groups;
    stray short contacts between side chains of different residues are not bonds."""
    if len(bonds) == 0:
        return bonds
    i, j = bonds[:, 0], bonds[:, 1]
    # classes 1 C, 2 N, 3 O3', 4 P, 5 SG: the products 2 (C-N), 12 (O3'-P) and 25 (SG-SG) are links
    cls = _name_class(sites, ("C", "N", "O3'", "P", "SG"))
    p = cls[i].astype(np.int16) * cls[j]
    link = (p == 2) | (p == 12) | (p == 25)
    keep = (rid[i] == rid[j]) | link | sites.hetero[i] | sites.hetero[j]
    return bonds[keep]


#: Å: a C-N (or O3'-P) distance this short between two residues is a backbone link.
LINK_DISTANCE = 1.75


def _polymer_mask(sites: _Sites, rid: np.ndarray) -> np.ndarray:
    """ATOM records plus HETATM residues linked into a chain by a peptide (C-N) or phosphodiester
    (O3'-P) bond to a neighbouring residue (modified residues such as MSE, SEP, PSU); only hetero
    residues that look like monomers (have CA or C1') join the chain."""
    from pocketvox.structure._pdbscan import linked_residues

    het = sites.hetero
    poly = ~het
    if not het.any():
        return poly
    name_class = _name_class(sites, ("C", "N", "O3'", "P", "CA", "C1'"))
    linked = linked_residues(sites.coords, rid, name_class, het, int(rid[-1]) + 1, LINK_DISTANCE)
    return poly | (linked[rid] & het)


# ------------------------------------------------------------------------------ atom tables
def _table_from_sites(sites: _Sites, bonds: np.ndarray | None = None, hetero: np.ndarray | None = None) -> AtomTable:
    if bonds is None:
        bonds = _bonds_from_radii(sites.coords, _site_radii(sites))

    def text(col, dtype):
        return sites.vocab[col].strings.astype(dtype, copy=False)[sites.codes[col]]

    return AtomTable.from_columns(
        coords=sites.coords,
        element=text("element", "<U2"),
        name=text("name", "<U4"),
        res_name=text("res_name", "<U5"),
        res_num=sites.res_num,
        icode=text("icode", "<U1"),
        chain=text("chain", "<U4"),
        serial=sites.serial,
        hetero=sites.hetero if hetero is None else hetero,
        bonds=bonds,
        bond_order=np.ones(len(bonds), np.float32),
    )


def _subset_bonds(bonds: np.ndarray, mask: np.ndarray) -> np.ndarray:
    remap = np.full(len(mask), -1, np.int64)
    remap[mask] = np.arange(int(mask.sum()))
    if len(bonds) == 0:
        return np.zeros((0, 2), np.int32)
    b = remap[bonds]
    return b[(b >= 0).all(1)].astype(np.int32)


@dataclass(frozen=True)
class ParsedStructure:
    """A cleaned structure split into receptor (polymer + metal ions) and hetero groups.

    ``het_bonds`` (M, 2) are covalent bonds among hetero (non-receptor) atoms, in row indices of
    ``sites``; covalently linked hetero residues form one ligand candidate, as in PLIP.
    """

    path: str
    sites: _Sites
    rid: np.ndarray
    receptor_mask: np.ndarray
    het_bonds: np.ndarray
    h_coords: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    h_parent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    def hydrogens_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The file's hydrogens on sites ``rows``: ``(coords (H, 3) Å, parent (H,))``, parents as
        positions in ``rows``."""
        if len(self.h_parent) == 0:
            return self.h_coords, self.h_parent
        pos = np.full(len(self.sites), -1, np.int32)
        pos[rows] = np.arange(len(rows), dtype=np.int32)
        p = pos[self.h_parent]
        return self.h_coords[p >= 0], p[p >= 0]

    def ligand_candidates(self) -> list[LigandCandidate]:
        return _candidates(self)


@dataclass(frozen=True)
class LigandCandidate:
    """A hetero group: its first residue names it (PLIP's notation); ``rows`` are all its atoms."""

    res_name: str
    chain: str
    res_num: int
    icode: str
    n_heavy: int
    rows: np.ndarray
    members: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.res_name}:{self.chain}:{self.res_num}{self.icode}"


def read_structure(path: str | os.PathLike, model: int | None = None) -> ParsedStructure:
    """Parse and clean a macromolecular structure and split receptor from hetero groups."""
    # the first model is the default: parse only it (1-based ``model`` selects another)
    sites = _clean(parse_structure(path, model=1 if model is None else model), model, path)
    rid = sites._rid if sites._rid is not None else _residue_index(sites)[0]
    poly = _polymer_mask(sites, rid)
    metal = sites.isin("element", METALS) & ~poly
    receptor = poly | metal
    het = np.flatnonzero(~receptor)
    hb = _bonds_from_radii(sites.coords[het], _site_radii(sites)[het])
    return ParsedStructure(str(path), sites, rid, receptor, het[hb] if len(hb) else np.zeros((0, 2), np.int64),
                           *sites._hydrogens)


def _candidates(ps: ParsedStructure, want=None) -> list[LigandCandidate]:
    """Hetero residues, merged where covalently bonded to each other (union-find over residues).

    ``want(res_name, chain, res_num, icode, members) -> bool``: only the first candidate it
    accepts (the rest are not built).
    """
    s = ps.sites
    het_rid = ps.rid[~ps.receptor_mask]
    if len(het_rid) == 0:
        return []
    # rid counts residue runs, so it is sorted and each residue's rows are one slice
    het_res = het_rid[np.concatenate(([True], het_rid[1:] != het_rid[:-1]))].tolist()
    parent = {r: r for r in het_res}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    if len(ps.het_bonds):
        ri, rj = ps.rid[ps.het_bonds[:, 0]], ps.rid[ps.het_bonds[:, 1]]
        cross = ri != rj
        for a, b in zip(ri[cross].tolist(), rj[cross].tolist()):
            # waters never merge; they are already gone, so any cross-residue bond is a link
            pa, pb = find(a), find(b)
            if pa != pb:
                parent[max(pa, pb)] = min(pa, pb)
    groups: dict[int, list[int]] = {}
    for r in het_res:
        groups.setdefault(find(r), []).append(r)
    bounds = np.searchsorted(ps.rid, np.array([het_res, [r + 1 for r in het_res]])).tolist()
    first_of = dict(zip(het_res, bounds[0]))
    end_of = dict(zip(het_res, bounds[1]))
    res_names = s.vocab["res_name"].strings.tolist()
    chains = s.vocab["chain"].strings.tolist()
    rn_code, ch_code, res_num = s.codes["res_name"], s.codes["chain"], s.res_num

    def label(row):
        return f"{res_names[rn_code[row]]}:{chains[ch_code[row]]}:{res_num[row]}"

    out = []
    for root, members in sorted(groups.items()):
        first = first_of[root]
        names = tuple(label(first_of[m]) for m in members)
        res_name, chain, num, icode = res_names[rn_code[first]], chains[ch_code[first]], int(res_num[first]), \
            s.text("icode", first)
        if want is not None and not want(res_name, chain, num, icode, names):
            continue
        if len(members) == 1:
            rows = np.arange(first, end_of[root])
        else:
            rows = np.concatenate([np.arange(first_of[m], end_of[m]) for m in members])
        out.append(LigandCandidate(res_name, chain, num, icode, len(rows), rows, names))
        if want is not None:
            break
    return out


def receptor_table(ps: ParsedStructure, near: np.ndarray | None = None, radius: float | None = None) -> AtomTable:
    """The typed receptor (polymer + metal ions).

    near, radius : keep only whole residues with an atom within ``radius`` Å of any point of
        ``near`` (N, 3) — a binding site, typed and bonded in a fraction of the time.
    """
    from pocketvox.structure.typing import type_protein

    m = ps.receptor_mask
    if not m.any():
        raise InputFileError(f"{ps.path}: no protein or nucleic-acid atoms found")
    if near is not None and radius is not None and len(near):
        from pocketvox.structure._pdbscan import near_residues

        near = np.ascontiguousarray(near, np.float64).reshape(-1, 3)
        close = near_residues(ps.sites.coords, m, ps.rid, int(ps.rid[-1]) + 1, near, float(radius))
        m = m & close[ps.rid]
        if not m.any():
            raise LigandError(f"{ps.path}: no receptor atom within {radius} Å of the ligand")
    rows = np.flatnonzero(m)
    sub = ps.sites.take(rows)
    t = type_protein(_table_from_sites(sub, _receptor_bonds(sub, ps.rid[rows])))
    if len(ps.h_parent):
        h_coords, h_parent = ps.hydrogens_of(rows)
        t = replace(t, h_coords=h_coords, h_parent=h_parent)
    return t


def _receptor_bonds(sites: _Sites, rid: np.ndarray) -> np.ndarray:
    """(M, 2) int32 covalent bonds of receptor sites: :func:`perceive_bonds` restricted by
    :func:`_restrict_cross_residue_bonds`, searched as such (pairs within residues, backbone
    links and hetero links between them) in one compiled pass."""
    from pocketvox.structure._pdbscan import site_bonds

    radii = _site_radii(sites)
    if len(sites) >= 2:
        args = (sites.coords, radii, rid, _name_class(sites, ("C", "N", "O3'", "P", "SG")), sites.hetero,
                BOND_TOLERANCE, MIN_BOND)
        cap = 4 * len(sites) + 16
        pairs, count = site_bonds(*args, cap)
        if count > cap:  # more pairs than room for them (overlapping atoms): once more, with room
            pairs, count = site_bonds(*args, count)
        if count >= 0:
            return pairs.astype(np.int32)
    return _restrict_cross_residue_bonds(_bonds_from_radii(sites.coords, radii), sites, rid)


def parse_ligand_id(spec: str) -> tuple[str, str, int, str]:
    """'STI:A:1' -> ('STI', 'A', 1, ''); raises LigandError on bad notation."""
    m = _LIGAND_RE.match(spec)
    if not m:
        raise LigandError(f"bad ligand id {spec!r}: expected RES:CHAIN:NUM, e.g. STI:A:1")
    return m.group(1).upper(), m.group(2), int(m.group(3)), m.group(4)


def select_ligand(ps: ParsedStructure, ligand: str | None = None) -> tuple[LigandCandidate, list[str]]:
    """Pick the ligand residue: the named one, or the largest drug-like hetero group.

    Returns the candidate and notes describing the choice. Raises :class:`LigandError` with the
    candidate list when nothing fits or the choice is ambiguous.
    """
    notes: list[str] = []
    if ligand:
        name, chain, num, icode = parse_ligand_id(ligand)
        key = f"{name}:{chain}:{num}"

        def named(res_name, res_chain, res_num, res_icode, members):
            return (res_name == name and res_chain == chain and res_num == num
                    and (not icode or res_icode == icode)) or key in members

        hits = _candidates(ps, named)  # the first match only
        if not hits:
            cands = ps.ligand_candidates()
            # allow naming a residue that we placed in the receptor (e.g. a modified residue)
            s = ps.sites
            rows = np.flatnonzero((s.res_name == name) & (s.chain == chain) & (s.res_num == num))
            if len(rows):
                return LigandCandidate(name, chain, num, icode, len(rows), rows), notes
            listing = ", ".join(c.id for c in cands[:12]) or "none"
            raise LigandError(f"{ps.path}: ligand {ligand} not found (hetero groups present: {listing})")
        return hits[0], notes
    cands = ps.ligand_candidates()
    is_metal = ps.sites.isin("element", METALS)
    drug_like = [c for c in cands if c.res_name not in ADDITIVES and c.n_heavy >= 6
                 and c.res_name not in WATER_NAMES and not is_metal[c.rows].all()]
    if not drug_like:
        # no drug-like group: fall back to the largest non-ion hetero group (sugars, small ligands)
        drug_like = [c for c in cands if c.n_heavy >= 2 and c.res_name not in WATER_NAMES
                     and not is_metal[c.rows].all()]
        if drug_like:
            notes.append("no drug-like ligand; using the largest hetero group")
    if not drug_like:
        listing = ", ".join(c.id for c in cands[:12]) or "none"
        raise LigandError(f"{ps.path}: no drug-like ligand found (hetero groups: {listing}); "
                          "name one with --ligand RES:CHAIN:NUM or give --ligand-file")
    best = max(c.n_heavy for c in drug_like)
    top = [c for c in drug_like if c.n_heavy == best]
    names = sorted({c.res_name for c in top})
    close = sorted({c.res_name for c in drug_like if c.n_heavy >= 0.9 * best and c.res_name not in names})
    if len(names) > 1:
        raise LigandError(f"{ps.path}: ambiguous ligand: {', '.join(c.id for c in top)} are equally large; "
                          "choose one with --ligand RES:CHAIN:NUM")
    chosen = top[0]
    if len(top) > 1:
        notes.append(f"{len(top)} copies of {chosen.res_name}; using the first, {chosen.id}")
    if close:
        notes.append(f"other large hetero groups present: {', '.join(close)}; chose {chosen.id} (largest)")
    return chosen, notes



#: Å around the ligand kept by ``load_complex(site_radius=...)``'s default for profiling: PLIP's
#: binding-site radius (BS_DIST 7.5 Å) plus the longest criterion (pi-cation, 6 Å) would be safe at
#: 13.5 Å; whole residues are kept, so typing and bonding see complete side chains.
SITE_RADIUS = 12.0


def load_complex(
    path: str | os.PathLike,
    ligand: str | None = None,
    ligand_file: str | os.PathLike | None = None,
    smiles: str | None = None,
    model: int | None = None,
    site_radius: float | None = None,
) -> Complex:
    """Read a complex: a whole entry with a HETATM ligand, or a receptor plus a ligand file.

    Parameters
    ----------
    path : PDB/mmCIF file (optionally .gz)
    ligand : 'RES:CHAIN:NUM' (PLIP notation) of a HETATM residue; found automatically if omitted
    ligand_file : SDF/MOL2/PDB of the ligand in the receptor's frame (overrides ``ligand``)
    smiles : bond-order template for a HETATM ligand
    model : 1-based model number for multi-model files (default: the first)
    site_radius : keep only receptor residues within this many Å of the ligand (e.g.
        :data:`SITE_RADIUS` for interaction profiling); None keeps the whole receptor

    Raises
    ------
    InputFileError, LigandError : one-line messages naming the file and the problem
    """
    from pocketvox.structure.ligand import ligand_from_residue, ligand_table, read_ligand_file

    ps = read_structure(path, model)
    if ligand_file is not None:
        mol, (h_coords, h_parent) = read_ligand_file(ligand_file, hydrogens=True)
        title = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
        res_name = (title[:3].upper() if re.fullmatch(r"[A-Za-z0-9]{1,3}", title or "") else "LIG")
        lig = ligand_table(mol, res_name=res_name, chain="L", res_num=1)
        if len(h_parent):
            lig = replace(lig, h_coords=h_coords, h_parent=h_parent)
        protein = receptor_table(ps, lig.coords, site_radius)
        return Complex(protein, lig, f"{res_name}:L:1", f"{path}+{ligand_file}",
                       notes=(f"ligand from {Path(ligand_file).name}",), ligand_mol=mol)
    cand, notes = select_ligand(ps, ligand)
    mol, more = ligand_from_residue(ps, cand, smiles)
    s = ps.sites
    names = s.name[cand.rows].tolist()
    lig = ligand_table(mol, res_name=cand.res_name, chain=cand.chain, res_num=cand.res_num, names=names)
    if len(cand.members) > 1:
        # a composite ligand keeps each atom's own residue identity
        lig = replace(lig, res_name=s.res_name[cand.rows].astype("<U5"), chain=s.chain[cand.rows].astype("<U4"),
                      res_num=s.res_num[cand.rows].astype(np.int32))
        notes.append("ligand made of covalently linked hetero groups: " + ", ".join(cand.members))
    if len(ps.h_parent):
        h_coords, h_parent = ps.hydrogens_of(cand.rows)
        lig = replace(lig, h_coords=h_coords, h_parent=h_parent)
    protein = receptor_table(ps, lig.coords, site_radius)
    return Complex(protein, lig, cand.id, str(path), notes=tuple(notes + more), ligand_mol=mol)


def load_receptor(path: str | os.PathLike, model: int | None = None) -> AtomTable:
    """The typed receptor of a structure file (no ligand needed)."""
    return receptor_table(read_structure(path, model))
