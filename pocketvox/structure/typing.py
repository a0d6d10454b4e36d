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
  both donor and acceptor here). Unknown residues fall back on the element rules.
* **charged groups**: protein Arg/Lys/His positive (His counted positive like PLIP), Asp/Glu negative,
  nucleic-acid phosphates negative (:data:`PROTEIN_CHARGED`). Ligand groups use PLIP's functional
  group rules (:func:`_ligand_groups`): quaternary ammonium, tertiary sp3 amine, sulfonium, guanidine
  (positive); carboxylate (any C bonded to exactly two O and one C, esters included as in PLIP),
  phosphate (P bonded only to O), sulfonate, sulfate (negative). PLIP counts neither primary or
  secondary amines nor amidines as charged; neither do we (documented in docs/interactions.md).
* **aromatic rings**: Phe/Tyr/His/Trp (both Trp rings) and nucleobase rings by atom name; ligand
  5- and 6-membered SSSR rings that RDKit calls aromatic or that are planar (every pair of local ring
  normals within 5°, PLIP's ``AROMATIC_PLANARITY``).

Everything is vectorised over atoms: residue tables are looked up once per unique (residue, name)
pair, groups and rings are assembled with array indexing.
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


def _has_non_carbon_neighbour(t: AtomTable) -> np.ndarray:
    out = np.zeros(len(t), bool)
    if len(t.bonds):
        b = t.bonds
        nonc = (t.element != "C") & (t.element != "H")
        out[b[:, 0][nonc[b[:, 1]]]] = True
        out[b[:, 1][nonc[b[:, 0]]]] = True
    return out


def _name_keys(t: AtomTable) -> tuple[np.ndarray, np.ndarray]:
    """Unique 'RES|NAME' strings and the inverse index of each row."""
    rn_u, rn_i = np.unique(t.res_name, return_inverse=True)
    an_u, an_i = np.unique(t.name, return_inverse=True)
    code = rn_i.astype(np.int64) * max(len(an_u), 1) + an_i
    cu, cinv = np.unique(code, return_inverse=True)
    names = np.array([f"{rn_u[c // max(len(an_u), 1)]}|{an_u[c % max(len(an_u), 1)]}" for c in cu.tolist()], object)
    return names, cinv


def _named_sets(t: AtomTable, rid: np.ndarray, templates: dict[str, tuple[tuple[str, ...], ...]],
                complete: bool, keys: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of atoms named by per-residue templates, one row per (residue, template).

    Returns ``(members (K, width) int32 padded -1, template_id (K,))``; with ``complete`` only sets
    whose every named atom is present are kept (rings), else any non-empty set (charged groups).
    ``keys``: precomputed ``np.unique(res_name|name, return_inverse=True)``.
    """
    flat = [(res, k, tmpl) for res, tmpls in templates.items() for k, tmpl in enumerate(tmpls)]
    width = max(len(x[2]) for x in flat)
    pos_table: dict[str, list[tuple[int, int]]] = {}
    for ti, (res, _, tmpl) in enumerate(flat):
        for p, name in enumerate(tmpl):
            pos_table.setdefault(f"{res}|{name}", []).append((ti, p))
    uniq, inv = keys if keys is not None else _name_keys(t)
    # Per unique (residue, name): up to two template slots (Trp CD2/CE2 are in both Trp rings).
    hit_t = np.full((len(uniq), 2), -1, np.int64)
    hit_p = np.full((len(uniq), 2), -1, np.int64)
    for u, key in enumerate(uniq.tolist()):  # loop over unique names, not atoms
        for h, (ti, p) in enumerate(pos_table.get(key, ())[:2]):
            hit_t[u, h], hit_p[u, h] = ti, p
    rows_i, rows_t, rows_p = [], [], []
    for h in range(2):
        ht = hit_t[inv, h]
        sel = np.flatnonzero(ht >= 0)
        rows_i.append(sel)
        rows_t.append(ht[sel])
        rows_p.append(hit_p[inv[sel], h])
    ai = np.concatenate(rows_i)
    if len(ai) == 0:
        return np.zeros((0, width), np.int32), np.zeros(0, np.int64)
    ti = np.concatenate(rows_t)
    pi = np.concatenate(rows_p)
    slot_key = rid[ai] * len(flat) + ti
    slots, slot_of = np.unique(slot_key, return_inverse=True)
    members = np.full((len(slots), width), -1, np.int64)
    members[slot_of, pi] = ai
    tid = slots % len(flat)
    sizes = np.array([len(x[2]) for x in flat])[tid]
    n_present = (members >= 0).sum(1)
    keep = n_present == sizes if complete else n_present > 0
    members, tid = members[keep], tid[keep]
    if not complete:  # compact: present members first
        order = np.argsort(members < 0, axis=1, kind="stable")
        members = np.take_along_axis(members, order, 1)
    return members.astype(np.int32), tid


# ---------------------------------------------------------------------------------------- protein
def type_protein(atoms: AtomTable) -> AtomTable:
    """Fill the typing columns of a receptor table (polymer + metals), PLIP semantics.

    Needs ``bonds`` (hydrophobic carbons and terminal N are read from the bond graph). Returns a new
    table; coordinates and identity columns are unchanged.
    """
    t = atoms
    n = len(t)
    el_u, el_i = np.unique(t.element, return_inverse=True)
    el = np.char.upper(el_u.astype(str))[el_i] if len(t) else t.element
    rid = residue_index(t)
    keys = _name_keys(t)
    hdeg = heavy_degree(t)

    # Polar atoms: element defaults first (unknown residues), then the residue table.
    is_o, is_n = el == "O", el == "N"
    donor = (is_o & (hdeg <= 1)) | (is_n & (hdeg <= 2))
    acceptor = is_o | (is_n & (hdeg <= 2))

    std = np.isin(t.res_name, list(STANDARD_AA))
    table = {f"{r}|{a}": v for r, d in PROTEIN_POLAR.items() for a, v in d.items()}
    vals = [table.get(k) for k in keys[0].tolist()]
    inv = keys[1]
    known = np.array([v is not None for v in vals], bool)[inv] if n else np.zeros(0, bool)
    tv_d = np.array([bool(v and v[0]) for v in vals], bool)[inv] if n else np.zeros(0, bool)
    tv_a = np.array([bool(v and v[1]) for v in vals], bool)[inv] if n else np.zeros(0, bool)
    donor = np.where(known, tv_d, donor)
    acceptor = np.where(known, tv_a, acceptor)
    # Standard residues: side-chain atoms not in the table are non-polar carbons or carbonyl O.
    bb_n = std & (t.name == "N")
    terminal_n = bb_n & (hdeg <= 1)
    donor = np.where(std & ~known, (bb_n & ((t.res_name != "PRO") | terminal_n)) | (is_o & (t.name == "OXT")),
                     donor)
    acceptor = np.where(std & ~known, is_o | terminal_n, acceptor)

    hydrophobic = (el == "C") & ~_has_non_carbon_neighbour(t)
    metal = np.isin(el, list(METAL_ELEMENTS))
    halogen = np.isin(el, list(HALOGEN_ELEMENTS))
    donor &= ~metal
    acceptor &= ~metal

    rings, _ = _named_sets(t, rid, PROTEIN_RINGS, complete=True, keys=keys)
    if rings.shape[1] < MAX_RING:
        rings = np.pad(rings, ((0, 0), (0, MAX_RING - rings.shape[1])), constant_values=-1)
    aromatic = np.zeros(n, bool)
    aromatic[rings[rings >= 0]] = True

    gtempl = {r: (names,) for r, (_, _, names) in PROTEIN_CHARGED.items()}
    groups, gt = _named_sets(t, rid, gtempl, complete=False, keys=keys)
    gres = list(gtempl)
    sign = np.array([PROTEIN_CHARGED[r][0] for r in gres], np.int8)[gt] if len(gt) else np.zeros(0, np.int8)
    kind = np.array([PROTEIN_CHARGED[r][1] for r in gres], "<U16")[gt] if len(gt) else np.zeros(0, "<U16")
    if groups.shape[1] < MAX_GROUP:
        groups = np.pad(groups, ((0, 0), (0, MAX_GROUP - groups.shape[1])), constant_values=-1)
    charge = np.zeros(n, np.int8)
    if len(groups):
        mem = groups >= 0
        charge[groups[mem]] = np.repeat(sign, mem.sum(1))

    return replace(
        t, element=el.astype(t.element.dtype) if len(t) else t.element, donor=donor, acceptor=acceptor,
        hydrophobic=hydrophobic, aromatic=aromatic, metal=metal, halogen=halogen, charge=charge,
        rings=rings.astype(np.int32), groups=groups.astype(np.int32), group_sign=sign, group_kind=kind,
    )
