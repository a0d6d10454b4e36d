"""Atom typing for the profiler: donor / acceptor / hydrophobic / aromatic / charged flags, aromatic
rings and charged groups, with PLIP 3.0.1 (Open Babel 3.2.1) semantics on heavy atoms.

PLIP types atoms with Open Babel after adding polar hydrogens to the whole complex. The rules below
reproduce what that gives, written as data:

* **hydrophobic**: a carbon whose bonded heavy neighbours are all carbons (PLIP: "carbon bonded only
  to C or H"). Computed from the bond graph for protein and ligand alike.
* **acceptor**: every oxygen; a nitrogen unless it is sp3 with four connections (ammonium) or sp2 with
  three (amide, aniline, pyrrole-type N-H); a sulfur with formal charge -1 (Open Babel's
  ``IsHbondAcceptor``). Halogens are never acceptors (PLIP excludes them).
* **donor**: a nitrogen or oxygen carrying a hydrogen once polar hydrogens are added. Open Babel does
  not protonate at pH 7, so charges are neutralised first (an NH3+ is an NH2 donor, a carboxylate is
  an acceptor only).
* **protein residues** follow the table :data:`PROTEIN_POLAR`, measured by running Open Babel's
  hydrogen addition on PLIP's test entries (e.g. Arg NE and Trp NE1 stay unprotonated in Open Babel,
  so PLIP never counts them as donors; His ND1 is protonated in about half the residues, so it is
  both donor and acceptor here; which half, as Open Babel decides it, is the profiler's business:
  :func:`pocketvox.interactions.hydrogens.effective_donors`). Unknown residues fall back on the
  element rules.
* **charged groups**: protein Arg/Lys/His positive (His counted positive like PLIP), Asp/Glu negative,
  nucleic-acid phosphates negative (:data:`PROTEIN_CHARGED`). Ligand groups use PLIP's functional
  group rules (:func:`_ligand_groups`): quaternary ammonium, tertiary sp3 amine, sulfonium, guanidine
  (positive); carboxylate (any C bonded to exactly two O and one C, esters included as in PLIP),
  phosphate (P bonded only to O), sulfonate, sulfate (negative). PLIP counts neither primary or
  secondary amines nor amidines as charged; neither do we (documented in docs/interactions.md).
* **aromatic rings**: Phe/Tyr/His/Trp (both Trp rings) and nucleobase rings by atom name; ligand
  5- and 6-membered SSSR rings that RDKit calls aromatic or that are planar (every pair of local ring
  normals within 5°, PLIP's ``AROMATIC_PLANARITY``).

Protein typing runs in one compiled pass (:mod:`._typing_kernels`, numba, imported on first use):
residue and atom names are packed into integer keys (8 bits per ASCII character) and looked up in
a hash of the tables above; rings and charged groups are assembled per residue run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pocketvox.structure.atoms import MAX_GROUP, MAX_RING, AtomTable

#: Elements typed ``metal`` (ions; never donors/acceptors).
METAL_ELEMENTS = frozenset(
    "LI NA K RB CS BE MG CA SR BA AL GA IN TL SN PB BI SC TI V CR MN FE CO NI CU ZN Y ZR MO "
    "RU RH PD AG CD W RE OS IR PT AU HG LA CE PR ND SM EU GD TB DY HO ER YB LU".split()
)
HALOGEN_ELEMENTS = frozenset({"F", "CL", "BR", "I"})

#: Max angle (degrees) between local ring normals for a non-aromatic ring to count as planar
#: (PLIP ``AROMATIC_PLANARITY``).
AROMATIC_PLANARITY = 5.0

STANDARD_AA = frozenset(
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL MSE SEC".split()
)
NUCLEIC = frozenset("DA DC DG DT DU DI A C G U I".split())

#: Polar side-chain atoms of standard residues: name -> (donor, acceptor). Backbone N is a donor
#: (not for PRO), backbone O / OXT acceptors; an N-terminal N (no peptide bond) is donor + acceptor.
#: Measured from Open Babel 3.2.1 ``AddPolarHydrogens`` + ``IsHbondDonor/Acceptor`` on PLIP's
#: test entries (see module docstring).
PROTEIN_POLAR: dict[str, dict[str, tuple[bool, bool]]] = {
    "ARG": {"NE": (False, True), "NH1": (True, False), "NH2": (True, False)},
    "ASN": {"OD1": (False, True), "ND2": (True, False)},
    "ASP": {"OD1": (False, True), "OD2": (False, True)},
    "CYS": {"SG": (False, False)},
    "GLN": {"OE1": (False, True), "NE2": (True, False)},
    "GLU": {"OE1": (False, True), "OE2": (False, True)},
    "HIS": {"ND1": (True, True), "NE2": (False, True)},
    "LYS": {"NZ": (True, True)},
    "MET": {"SD": (False, False)},
    "MSE": {"SE": (False, False)},
    "SER": {"OG": (True, True)},
    "THR": {"OG1": (True, True)},
    "TRP": {"NE1": (False, True)},
    "TYR": {"OH": (True, True)},
}

#: Charged side chains: residue -> (sign, kind, member atom names). PLIP uses the side-chain N of
#: Arg/His/Lys and side-chain O of Asp/Glu; centre = mean of the members present.
PROTEIN_CHARGED: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "ARG": (1, "guanidinium", ("NE", "NH1", "NH2")),
    "LYS": (1, "ammonium", ("NZ",)),
    "HIS": (1, "imidazolium", ("ND1", "NE2")),
    "ASP": (-1, "carboxylate", ("OD1", "OD2")),
    "GLU": (-1, "carboxylate", ("OE1", "OE2")),
    **{n: (-1, "phosphate", ("P",)) for n in NUCLEIC},
}

_PHE_RING = ("CG", "CD1", "CE1", "CZ", "CE2", "CD2")
_PYRIMIDINE = ("N1", "C2", "N3", "C4", "C5", "C6")
_IMIDAZOLE5 = ("C4", "C5", "N7", "C8", "N9")
#: Aromatic rings by residue and atom names, in ring order.
PROTEIN_RINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "PHE": (_PHE_RING,),
    "TYR": (_PHE_RING,),
    "HIS": (("CG", "ND1", "CE1", "NE2", "CD2"),),
    "TRP": (("CG", "CD1", "NE1", "CE2", "CD2"), ("CD2", "CE2", "CZ2", "CH2", "CZ3", "CE3")),
    **{n: (_PYRIMIDINE, _IMIDAZOLE5) for n in ("DA", "DG", "DI", "A", "G", "I")},
    **{n: (_PYRIMIDINE,) for n in ("DC", "DT", "DU", "C", "U")},
}


# ---------------------------------------------------------------------------------------- helpers
def residue_index(t: AtomTable) -> np.ndarray:
    """(N,) int64: residue number of each row, counting changes of (chain, res_num, icode, res_name)
    between consecutive rows (tables are residue-contiguous)."""
    n = len(t)
    if n == 0:
        return np.zeros(0, np.int64)
    ch = np.ones(n, bool)
    ch[1:] = (
        (t.chain[1:] != t.chain[:-1]) | (t.res_num[1:] != t.res_num[:-1])
        | (t.icode[1:] != t.icode[:-1]) | (t.res_name[1:] != t.res_name[:-1])
    )
    return np.cumsum(ch) - 1


def heavy_degree(t: AtomTable) -> np.ndarray:
    """(N,) int: number of bonded heavy atoms."""
    if len(t.bonds) == 0:
        return np.zeros(len(t), np.int64)
    b = t.bonds
    hv = t.element != "H"
    return (np.bincount(b[:, 0], weights=hv[b[:, 1]], minlength=len(t))
            + np.bincount(b[:, 1], weights=hv[b[:, 0]], minlength=len(t))).astype(np.int64)


def _codepoints(col: np.ndarray) -> np.ndarray:
    """(N, W) uint32 code points of a str array (W = its width; 0 pads short strings)."""
    col = np.ascontiguousarray(col)
    width = col.dtype.itemsize // 4
    return col.view(np.uint32).reshape(len(col), width)


def _pack(s: str) -> int:
    """Packed key of an ASCII string (at most 4 characters), first character lowest."""
    return sum(ord(c) << (8 * k) for k, c in enumerate(s))


class _ResidueTables:
    """The residue tables as one sorted array of packed (residue, atom name) keys, with per key:
    polar flags (known, donor, acceptor), up to two ring slots and one charged-group slot
    (template id, position), so that typing is one hash lookup per atom."""

    def __init__(self):
        self.rings = [(res, k, tmpl) for res, tmpls in PROTEIN_RINGS.items() for k, tmpl in enumerate(tmpls)]
        self.groups = [(res, 0, names) for res, (_, _, names) in PROTEIN_CHARGED.items()]
        entries: dict[int, dict] = {}

        def entry(res, name):
            return entries.setdefault((_pack(res) << 32) | _pack(name), {"ring": []})

        for res, d in PROTEIN_POLAR.items():
            for name, v in d.items():
                entry(res, name)["polar"] = v
        for ti, (res, _, tmpl) in enumerate(self.rings):
            for p, name in enumerate(tmpl):
                entry(res, name)["ring"].append((ti, p))
        for ti, (res, _, names) in enumerate(self.groups):
            for p, name in enumerate(names):
                entry(res, name)["group"] = (ti, p)
        self.keys = np.array(sorted(entries), np.int64)
        e = [entries[k] for k in self.keys.tolist()]
        # one extra row (index len(keys)) for atoms matching no key
        self.known = np.array([("polar" in x) for x in e] + [False])
        self.donor = np.array([bool(x.get("polar", (0, 0))[0]) for x in e] + [False])
        self.acceptor = np.array([bool(x.get("polar", (0, 0))[1]) for x in e] + [False])
        self.ring_t = np.full((len(e) + 1, 2), -1, np.int64)
        self.ring_p = np.full((len(e) + 1, 2), -1, np.int64)
        for i, x in enumerate(e):
            for h, (ti, p) in enumerate(x["ring"][:2]):  # Trp CD2/CE2 are in both Trp rings
                self.ring_t[i, h], self.ring_p[i, h] = ti, p
        self.group_t = np.array([x.get("group", (-1, -1))[0] for x in e] + [-1], np.int64)[:, None]
        self.group_p = np.array([x.get("group", (-1, -1))[1] for x in e] + [-1], np.int64)[:, None]
        self.ring_size = np.array([len(x[2]) for x in self.rings])
        self.group_size = np.array([len(x[2]) for x in self.groups])
        self.group_sign = np.array([PROTEIN_CHARGED[r][0] for r, _, _ in self.groups], np.int8)
        self.group_kind = np.array([PROTEIN_CHARGED[r][1] for r, _, _ in self.groups], "<U16")
        from pocketvox.structure._typing_kernels import STD_TAG, build_hash

        # one hash table: residue-table keys -> row, tagged standard residues -> 1
        std = [_pack(r) | STD_TAG for r in STANDARD_AA if len(r) <= 3]
        self.hash = build_hash(np.concatenate([self.keys, np.array(std, np.int64)]),
                               np.concatenate([np.arange(len(self.keys)), np.ones(len(std), np.int64)]))
        # metals and halogens by packed element (all one or two letters)
        self.el_flags = np.zeros(1 << 16, np.uint8)
        self.el_flags[[_pack(e) for e in METAL_ELEMENTS]] |= 1
        self.el_flags[[_pack(e) for e in HALOGEN_ELEMENTS]] |= 2


_TABLES: _ResidueTables | None = None


def _tables() -> _ResidueTables:
    global _TABLES
    if _TABLES is None:
        _TABLES = _ResidueTables()
    return _TABLES


# ---------------------------------------------------------------------------------------- protein
def type_protein(atoms: AtomTable) -> AtomTable:
    """Fill the typing columns of a receptor table (polymer + metals), PLIP semantics.

    Needs ``bonds`` (hydrophobic carbons and terminal N are read from the bond graph). Returns a new
    table; coordinates and identity columns are unchanged. Residue tables are looked up by packed
    (residue, atom name) integer keys (:class:`_ResidueTables`) in one compiled pass
    (:mod:`._typing_kernels`).
    """
    from pocketvox.structure._typing_kernels import type_protein_kernel

    t = atoms
    n = len(t)
    tab = _tables()
    el = t.element
    el_cp = _codepoints(el)
    if n and el_cp.max() >= 97:  # lower-case or non-ASCII letters: upper-case them
        el_u, el_i = np.unique(t.element, return_inverse=True)
        el = np.char.upper(el_u.astype(str))[el_i]
    donor, acceptor, hydrophobic, aromatic, metal, halogen, rings, groups, gt = type_protein_kernel(
        el_cp, _codepoints(el), _codepoints(t.res_name), _codepoints(t.name), _codepoints(t.chain),
        _codepoints(t.icode), np.asarray(t.res_num), np.asarray(t.bonds).reshape(-1, 2), *tab.hash, len(tab.keys),
        tab.el_flags, tab.known, tab.donor, tab.acceptor, tab.ring_t, tab.ring_p, tab.group_t, tab.group_p,
        tab.ring_size, tab.group_size, _pack("O"), _pack("N"), _pack("C"), _pack("H"), _pack("PRO"), _pack("OXT"),
        _pack("N"), max(MAX_RING, int(tab.ring_size.max())), max(MAX_GROUP, int(tab.group_size.max())))
    sign = tab.group_sign[gt]
    kind = tab.group_kind[gt]
    charge = np.zeros(n, np.int8)
    if len(groups):
        mem = groups >= 0
        charge[groups[mem]] = np.repeat(sign, mem.sum(1))
    return replace(
        t, element=el.astype(t.element.dtype, copy=False) if n else t.element, donor=donor, acceptor=acceptor,
        hydrophobic=hydrophobic, aromatic=aromatic, metal=metal, halogen=halogen, charge=charge,
        rings=rings, groups=groups, group_sign=sign, group_kind=kind,
    )
