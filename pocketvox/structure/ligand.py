"""Ligands as RDKit molecules: small-molecule files (SDF/MOL/MOL2/PDB), HETATM residues with bond
orders perceived from heavy-atom geometry (or a SMILES template), and their typed :class:`AtomTable`.

Bond orders of a HETATM ligand: hydrogen counts are guessed from bond angles and lengths
(:func:`guess_hydrogens`), then the double bonds are a maximum matching over the unsaturated atoms
(:func:`_bond_orders_by_matching`); RDKit's ``DetermineBondOrders`` (xyz2mol) is the fallback.
"""

from __future__ import annotations

import os

import numpy as np

from pocketvox.errors import LigandError
from pocketvox.structure.atoms import AtomTable
from pocketvox.structure.io import (
    LigandCandidate,
    ParsedStructure,
    _stem_format,
    _subset_bonds,
    perceive_bonds,
    read_bytes,
)


# ------------------------------------------------------------------------------ ligands (RDKit)
def _rdkit_quiet():
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


def read_ligand_file(path: str | os.PathLike, index: int = 0, hydrogens: bool = False):
    """First (or ``index``-th) molecule of an SDF/MOL/MOL2/PDB file as an RDKit Mol without H.

    With ``hydrogens``, returns ``(mol, (h_coords (H, 3) Å, h_parent (H,)))``: the hydrogens the file
    gave, each with the index of its heavy atom in ``mol`` (for the profiler's D-H...A angles).
    """
    from rdkit import Chem

    _rdkit_quiet()
    data = read_bytes(path)
    fmt = _stem_format(path)
    text = data.decode("latin-1")
    mol = None
    if fmt in ("sdf", "mol", "sd") or (fmt == "" and "M  END" in text):
        if "M  END" not in text and "V2000" not in text and "V3000" not in text:
            raise LigandError(f"{path}: not an SDF/MOL file (no molecule block)")
        blocks = [b for b in text.split("$$$$") if b.strip()]
        if index >= len(blocks):
            raise LigandError(f"{path}: has {len(blocks)} molecules, wanted #{index + 1}")
        mol = Chem.MolFromMolBlock(blocks[index], sanitize=False, removeHs=False)
    elif fmt == "mol2":
        if "@<TRIPOS>ATOM" not in text:
            raise LigandError(f"{path}: not a MOL2 file (no @<TRIPOS>ATOM section)")
        blocks = ["@<TRIPOS>MOLECULE" + b for b in text.split("@<TRIPOS>MOLECULE") if b.strip()]
        mol = Chem.MolFromMol2Block(blocks[min(index, len(blocks) - 1)], sanitize=False, removeHs=False)
    elif fmt in ("pdb", "ent"):
        mol = Chem.MolFromPDBBlock(text, sanitize=False, removeHs=False, proximityBonding=True)
        if mol is not None:
            mol = _perceive_bond_orders(mol, None, path, [])
    else:
        raise LigandError(f"{path}: unknown ligand format '.{fmt}' (use SDF, MOL2 or PDB)")
    if mol is None or mol.GetNumAtoms() == 0:
        raise LigandError(f"{path}: RDKit could not parse the ligand (malformed or truncated molecule block)")
    return finish_ligand_mol(mol, path, hydrogens)


def _explicit_hydrogens(mol) -> tuple[np.ndarray, np.ndarray]:
    """Hydrogen atoms of ``mol`` bonded to a heavy atom: ``(coords (H, 3), parent (H,))``, the parent
    indexed as after ``RemoveHs`` (which keeps the heavy atoms in order)."""
    n = mol.GetNumAtoms()
    z = np.fromiter((mol.GetAtomWithIdx(i).GetAtomicNum() for i in range(n)), np.int64, n)
    if not (z == 1).any():
        return np.zeros((0, 3)), np.zeros(0, np.int32)
    heavy_pos = np.cumsum(z > 1) - 1
    pairs = np.array([(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()], np.int64).reshape(-1, 2)
    hz = z[pairs]
    h_end = np.where(hz[:, 0] == 1, pairs[:, 0], pairs[:, 1])
    heavy_end = np.where(hz[:, 0] == 1, pairs[:, 1], pairs[:, 0])
    ok = (hz == 1).sum(1) == 1
    xyz = mol.GetConformer().GetPositions()
    return xyz[h_end[ok]], heavy_pos[heavy_end[ok]].astype(np.int32)


def finish_ligand_mol(mol, path, hydrogens: bool = False):
    """Sanitise, drop hydrogens, check elements; one-line LigandError on failure. With
    ``hydrogens``, also the dropped hydrogens (see :func:`read_ligand_file`)."""
    from rdkit import Chem

    if mol.GetNumConformers() == 0:
        raise LigandError(f"{path}: ligand has no 3D coordinates")
    try:
        Chem.SanitizeMol(mol)
    except Exception as e:  # noqa: BLE001 - RDKit raises several types; one line for the user
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise LigandError(f"{path}: RDKit rejected the ligand: {msg}") from None
    given = _explicit_hydrogens(mol) if hydrogens else None
    mol = Chem.RemoveHs(mol, sanitize=False)
    heavy = [a for a in mol.GetAtoms() if a.GetAtomicNum() > 1]
    if not heavy:
        raise LigandError(f"{path}: ligand has no heavy atoms")
    dummy = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 0]
    if dummy:
        raise LigandError(f"{path}: ligand has dummy/unknown atoms (element '*' at atom {dummy[0] + 1})")
    return (mol, given) if hydrogens else mol


_BOND_ORDER = {1: 1.0, 2: 2.0, 3: 3.0, 12: 1.5}  # BondType code -> GetBondTypeAsDouble, common types
_Z_BY_SYMBOL: dict[str, int] = {}
_TABLES: dict[str, np.ndarray] = {}
_SMILES_PARAMS: list = []


def _atomic_number(symbol: str) -> int:
    """Atomic number of an element symbol (any case); RuntimeError (from RDKit) if unknown."""
    z = _Z_BY_SYMBOL.get(symbol)
    if z is None:
        from rdkit import Chem

        z = _Z_BY_SYMBOL[symbol] = Chem.Atom(symbol.capitalize()).GetAtomicNum()
    return z


def _element_tables() -> dict[str, np.ndarray]:
    """Per atomic number (0-118): upper-case symbol ('<U2'), metal and halogen flags."""
    if not _TABLES:
        from rdkit import Chem

        from pocketvox.structure.typing import HALOGEN_ELEMENTS, METAL_ELEMENTS

        pt = Chem.GetPeriodicTable()
        sym = np.array([pt.GetElementSymbol(z).upper() for z in range(119)], "<U2")
        _TABLES.update(symbol=sym, metal=np.isin(sym, list(METAL_ELEMENTS)),
                       halogen=np.isin(sym, list(HALOGEN_ELEMENTS)))
    return _TABLES


def _ring_arrays(rings) -> tuple[np.ndarray, np.ndarray]:
    """RDKit ring tuples -> ``(ptr (R+1,), atoms)`` int64, flattened in ring order."""
    sizes = [len(r) for r in rings]
    ptr = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=ptr[1:])
    atoms = np.fromiter((a for r in rings for a in r), np.int64, int(ptr[-1]))
    return ptr, atoms


def mol_arrays(mol) -> dict[str, np.ndarray]:
    """Per-atom and per-bond arrays of an RDKit Mol, read once (one call per atom and bond property).

    Returns z, fc, nh (total H), arom (N,) and bonds (B, 2) int64 (begin, end), btype (B,) int64
    (RDKit ``BondType`` codes), order (B,) float64 (``GetBondTypeAsDouble``).
    """
    n, nb = mol.GetNumAtoms(), mol.GetNumBonds()
    atom, bond = mol.GetAtomWithIdx, mol.GetBondWithIdx
    z = np.empty(n, np.int64)
    fc = np.empty(n, np.int64)
    nh = np.empty(n, np.int64)
    arom = np.empty(n, bool)
    for i in range(n):  # the RDKit boundary: one pass, property reads only
        a = atom(i)
        z[i], fc[i], nh[i], arom[i] = a.GetAtomicNum(), a.GetFormalCharge(), a.GetTotalNumHs(), a.GetIsAromatic()
    bonds = np.empty((nb, 2), np.int64)
    btype = np.empty(nb, np.int64)
    order = np.empty(nb, np.float64)
    for k in range(nb):
        b = bond(k)
        bonds[k, 0], bonds[k, 1], t = b.GetBeginAtomIdx(), b.GetEndAtomIdx(), int(b.GetBondType())
        btype[k] = t
        order[k] = _BOND_ORDER[t] if t in _BOND_ORDER else b.GetBondTypeAsDouble()
    return dict(z=z, fc=fc, nh=nh, arom=arom, bonds=bonds, btype=btype, order=order)


def _graph_arrays(mol):
    """z, total degree-free bond list, bond type codes and formal charges of a Mol (before perception)."""
    n, nb = mol.GetNumAtoms(), mol.GetNumBonds()
    z = np.array([mol.GetAtomWithIdx(i).GetAtomicNum() for i in range(n)], np.int64)
    fc = np.array([mol.GetAtomWithIdx(i).GetFormalCharge() for i in range(n)], np.int64)
    bonds = np.array([(mol.GetBondWithIdx(k).GetBeginAtomIdx(), mol.GetBondWithIdx(k).GetEndAtomIdx())
                      for k in range(nb)], np.int64).reshape(-1, 2)
    btype = np.array([int(mol.GetBondWithIdx(k).GetBondType()) for k in range(nb)], np.int64)
    return z, bonds, btype, fc


def _perceive_bond_orders(mol, smiles: str | None, path, notes: list[str], graph=None):
    """Bond orders for a heavy-atom HETATM ligand (see :func:`_perceive`)."""
    return _perceive(mol, smiles, path, notes, graph)[0]


def _perceive(mol, smiles: str | None, path, notes: list[str], graph=None):
    """Bond orders for a heavy-atom HETATM ligand: ``(mol, final)``, ``final`` True when the Mol is
    sanitised and a second ``SanitizeMol`` would change nothing.

    With a SMILES template, RDKit assigns them from it. Otherwise hydrogen counts are first guessed
    from the heavy-atom geometry (:func:`guess_hydrogens`: bond angles and lengths give each atom's
    hybridisation) and the double bonds are a maximum matching over the unsaturated atoms
    (:func:`_bond_orders_by_matching`); if that fails, explicit hydrogens are added and RDKit's
    ``DetermineBondOrders`` (xyz2mol) solves the valences, trying small net charges in turn.

    ``graph``: ``(z, bonds, btype, fc)`` when the caller built ``mol`` itself from single bonds and
    fresh atoms (no charges, explicit H or flags), which lets atoms of a plain valence skip RDKit's
    no-implicit-H round trip; None reads them from ``mol``.
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem, rdDetermineBonds

    if smiles:
        tmpl = Chem.MolFromSmiles(smiles)
        if tmpl is None:
            raise LigandError(f"--smiles {smiles!r}: not a valid SMILES")
        try:
            out = AllChem.AssignBondOrdersFromTemplate(tmpl, mol)
            notes.append("bond orders from the SMILES template")
            return out, False
        except ValueError:
            raise LigandError(f"{path}: the SMILES template does not match the ligand's atoms") from None
    fresh = graph is not None
    z, bonds, btype, fc = graph if fresh else _graph_arrays(mol)
    hcount = _guess_hydrogens_arrays(mol, z, bonds)
    fast, final = _bond_orders_by_matching(mol, z, bonds, btype, fc, hcount, fresh)
    if fast is not None:
        notes.append("bond orders perceived from geometry")
        return fast, final
    base = Chem.RWMol(mol)
    for i, h in enumerate(hcount.tolist()):
        a = base.GetAtomWithIdx(i)
        a.SetNumExplicitHs(int(h))
        a.SetNoImplicit(True)
    base.UpdatePropertyCache(strict=False)
    with_h = Chem.AddHs(base.GetMol(), addCoords=True)
    q0 = expected_charge(mol)
    # each failed attempt of the valence search can take seconds on nucleotides: try few charges
    for charge in dict.fromkeys((q0, 0, q0 + 1, q0 - 1) if mol.GetNumAtoms() <= 40 else (q0,)):
        m = Chem.Mol(with_h)
        try:
            rdDetermineBonds.DetermineBondOrders(m, charge=charge, allowChargedFragments=True,
                                                 embedChiral=False, useAtomMap=False)
            Chem.SanitizeMol(m)
        except Exception:  # noqa: BLE001 - perception fails in several ways; try the next charge
            continue
        notes.append("bond orders perceived from geometry" + (f" (net charge {charge:+d})" if charge else ""))
        return Chem.RemoveHs(m, sanitize=False), False
    notes.append("bond-order perception failed: single bonds assumed (aromaticity and charges may be "
                 "missing; pass --smiles to fix)")
    return mol, False


def _max_matching(n: int, edges: np.ndarray) -> np.ndarray:
    """(N,) partner of each atom in NetworkX's maximum-cardinality matching of ``edges`` (-1: none).

    The blossom-free run is replayed in numba; a graph where a blossom forms goes to NetworkX itself.
    """
    from pocketvox.structure import _ligand_kernels as K

    ok, mate = K.greedy_blossom_free_matching(n, edges)
    if ok:
        return mate
    import networkx as nx

    g = nx.Graph()
    g.add_edges_from(edges.tolist())
    mate = np.full(n, -1, np.int64)
    for i, j in nx.max_weight_matching(g, maxcardinality=True):
        mate[i], mate[j] = j, i
    return mate


def _bond_orders_by_matching(mol, z, bonds, btype, fc, hcount: np.ndarray, fresh: bool):
    """Kekulé bond orders as a maximum matching over unsaturated atoms (fast, well under a millisecond).

    Each heavy atom's unsaturation is its usual valence minus degree minus guessed H. A
    maximum-cardinality matching (Edmonds' blossom, as NetworkX computes it) over bonds joining
    unsaturated atoms gives the double bonds; terminal O/S left unsaturated become anions
    (carboxylate, phosphate); an unsaturated C/N left over means the hydrogen guess was too low there:
    it gets one more H and the matching is redone (up to four tries). Returns ``(Mol, final)``: the
    sanitised Mol (None when nothing fits: the caller then falls back to RDKit's xyz2mol), and
    whether every atom has a plain valence, so that sanitising it again would change nothing.
    """
    from rdkit import Chem

    from pocketvox.structure import _ligand_kernels as K

    n = len(z)
    h = hcount
    for _ in range(4):
        unsat = K.unsaturation(z, bonds, h)
        edges = bonds[(unsat[bonds[:, 0]] > 0) & (unsat[bonds[:, 1]] > 0)] if len(bonds) else bonds
        mate = _max_matching(n, edges)
        status, bt, q, q_set, h_next, safe = K.matching_orders(z, bonds, btype, h, unsat, mate, fc)
        if status == K.RETRY:
            h = h_next
            continue
        if status != K.OK:
            return None, False
        break
    else:
        return None, False
    out = Chem.Mol(mol)
    types = Chem.BondType.values
    for k in np.flatnonzero(bt != btype).tolist():
        out.GetBondWithIdx(k).SetBondType(types[int(bt[k])])
    # Atoms of a plain valence (C 4, N 3, O 2, ...) get no implicit H and no radical whether or not
    # RDKit is told "no implicit H": only the others take the round trip below (fresh atoms only).
    touch = np.flatnonzero((h > 0) | ~safe | q_set) if fresh else np.arange(n)
    strict = ~safe if fresh else np.ones(n, bool)
    for i in touch.tolist():
        a = out.GetAtomWithIdx(i)
        if h[i] or not fresh:
            a.SetNumExplicitHs(int(h[i]))
        if strict[i]:
            a.SetNoImplicit(True)
        if q_set[i]:
            a.SetFormalCharge(int(q[i]))
    try:
        Chem.SanitizeMol(out)
    except Exception:  # noqa: BLE001
        return None, False
    strict_atoms = np.flatnonzero(strict).tolist()
    for i in strict_atoms:
        out.GetAtomWithIdx(i).SetNoImplicit(False)
    return out, not strict_atoms


#: Thresholds for hybridisation from heavy-atom geometry (degrees / Å). sp3 angles are ~109.5°,
#: sp2 ~120°, sp ~180°; single C-O ~1.43, C=O ~1.23; C-C 1.54, C=C 1.34; C-N 1.47, C=N 1.28.
SP3_MAX_ANGLE = 117.5
SP_MIN_ANGLE = 155.0
PLANAR_MAX_DEVIATION = 0.15  # Å out of the plane of its three neighbours


def _guess_hydrogens_arrays(mol, z: np.ndarray, bonds: np.ndarray) -> np.ndarray:
    from rdkit import Chem

    from pocketvox.structure import _ligand_kernels as K

    # RDKit's symmetrised SSSR: the rings (and ring sizes) the rules were tuned on
    ptr, atoms = _ring_arrays(Chem.GetSymmSSSR(mol))
    xyz = np.ascontiguousarray(mol.GetConformer().GetPositions(), np.float64)
    return K.guess_hydrogens_kernel(z, xyz, bonds, ptr, atoms)


def guess_hydrogens(mol) -> list[int]:
    """Implicit hydrogen count per heavy atom from 3D geometry (no bond orders needed).

    Per atom, from its heavy neighbours: the mean bond angle (sp3 below 117.5°, sp above 155°),
    planarity of three neighbours (0.15 Å), bond lengths, and membership of flat rings (RDKit's
    symmetrised SSSR, RMS off-plane below 0.1 Å) and 5-rings (the rules in
    :func:`pocketvox.structure._ligand_kernels.guess_hydrogens_kernel`).
    """
    z, bonds, _, _ = _graph_arrays(mol)
    return _guess_hydrogens_arrays(mol, z, bonds).tolist()


def expected_charge(mol) -> int:
    """Net charge implied by acid groups drawn without hydrogens (carboxylates, phosphates,
    sulfonates), the form crystal structures show and PLIP's charge model assumes."""
    q = 0
    for a in mol.GetAtoms():
        term_o = [n for n in a.GetNeighbors() if n.GetSymbol() == "O" and n.GetDegree() == 1]
        el = a.GetSymbol()
        if el == "C" and len(term_o) == 2:
            q -= 1
        elif el == "P" and len(term_o) >= 2:
            q -= len(term_o) - 1
        elif el == "S" and len(term_o) >= 3:
            q -= len(term_o) - 2
    return q


#: Elements a SMILES string may name without brackets (such atoms come out as ``Chem.Atom(z)`` does).
_ORGANIC = {5: "B", 6: "C", 7: "N", 8: "O", 9: "F", 15: "P", 16: "S", 17: "Cl", 35: "Br", 53: "I"}


def _build_mol(z: np.ndarray, bonds: np.ndarray, coords: np.ndarray):
    """RDKit Mol of atoms ``z`` joined by single ``bonds``, with one conformer ``coords`` (Å)."""
    from rdkit import Chem

    zl = z.tolist()
    if all(zi in _ORGANIC for zi in zl):
        # one parse of "C.C.N..." creates the atoms in order, cheaper than an AddAtom call per atom
        params = _smiles_params()
        rw = Chem.RWMol(Chem.MolFromSmiles(".".join([_ORGANIC[zi] for zi in zl]), params))
    else:
        rw = Chem.RWMol()
        add_atom, new_atom = rw.AddAtom, Chem.Atom
        for zi in zl:
            add_atom(new_atom(zi))
    add_bond, single = rw.AddBond, Chem.BondType.SINGLE
    for i, j in bonds.tolist():
        add_bond(i, j, single)
    mol = rw.GetMol()
    conf = Chem.Conformer(len(z))
    conf.SetPositions(np.ascontiguousarray(coords, np.float64))
    mol.AddConformer(conf, assignId=True)
    mol.UpdatePropertyCache(strict=False)
    return mol


def _smiles_params():
    if not _SMILES_PARAMS:
        from rdkit import Chem

        p = Chem.SmilesParserParams()
        p.sanitize = False
        p.removeHs = False
        _SMILES_PARAMS.append(p)
    return _SMILES_PARAMS[0]


def _conect_bonds(conect: np.ndarray, ser: np.ndarray) -> np.ndarray | None:
    """CONECT pairs (C, 2) of serials joining two of the ligand's atoms (serials ``ser``) as sorted
    unique (M, 2) int32 pairs of ligand rows; None when no record joins two ligand atoms."""
    lo, hi = int(ser.min()), int(ser.max())
    n = len(ser)
    idx = np.arange(n)
    if lo >= 0 and hi - lo <= 64 * n + 1024:
        # serial -> row lookup over the ligand's serial range (serials unique: the usual case)
        lut = np.full(hi - lo + 1, -1, np.int64)
        lut[ser - lo] = idx
        if (lut[ser - lo] == idx).all():
            c = conect.astype(np.int64) - lo
            inr = (c >= 0) & (c <= hi - lo)
            c = c[inr[:, 0] & inr[:, 1] & (c[:, 0] != c[:, 1])]
            pos = lut[c]
            pos = pos[(pos >= 0).all(1)]
            if not len(pos):
                return None
            pos.sort(axis=1)
            key = np.unique(pos[:, 0] * n + pos[:, 1])  # lexicographic order of the pairs
            return np.stack([key // n, key % n], 1).astype(np.int32)
    inside = np.isin(conect, ser).all(1) & (conect[:, 0] != conect[:, 1])
    if not inside.any():
        return None
    order = np.argsort(ser)
    pos = order[np.searchsorted(ser, conect[inside], sorter=order)]
    return np.unique(np.sort(pos, axis=1), axis=0).astype(np.int32)


def ligand_from_residue(ps: ParsedStructure, cand: LigandCandidate, smiles: str | None = None):
    """RDKit Mol of a HETATM residue (heavy atoms in file order) plus notes."""
    from rdkit import Chem

    _rdkit_quiet()
    s = ps.sites
    rows = cand.rows
    notes: list[str] = []
    try:
        z = np.array([_atomic_number(e) for e in s.element[rows].tolist()], np.int64)
    except RuntimeError:
        bad = next(e for e in s.element[rows].tolist() if e not in _Z_BY_SYMBOL)
        raise LigandError(f"{ps.path}: ligand {cand.id} has unknown element {bad!r}") from None
    in_lig = np.zeros(len(s), bool)
    in_lig[rows] = True
    local = _subset_bonds(ps.het_bonds, in_lig)
    if len(rows) and not ps.receptor_mask[rows].any() and len(local) == 0 and len(rows) > 1:
        local = perceive_bonds(s.coords[rows], s.element[rows])
    elif ps.receptor_mask[rows].any():  # a residue named from the receptor (e.g. a modified one)
        local = perceive_bonds(s.coords[rows], s.element[rows])
    # CONECT records (when the file has them) override distance-based bonds inside the ligand
    if len(s.conect) and len(rows):
        conect = _conect_bonds(s.conect, s.serial[rows])
        if conect is not None:
            local = conect
            notes.append("connectivity from CONECT records")
    bonds = np.asarray(local, np.int64).reshape(-1, 2)
    mol = _build_mol(z, bonds, s.coords[rows])
    graph = (z, bonds, np.ones(len(bonds), np.int64), np.zeros(len(z), np.int64))
    mol, final = _perceive(mol, smiles, ps.path, notes, graph=graph)
    if final:  # sanitised with every atom at a plain valence: a second pass is a no-op
        return mol, notes
    try:
        Chem.SanitizeMol(mol)
    except Exception:  # noqa: BLE001
        mol.UpdatePropertyCache(strict=False)
        Chem.SanitizeMol(mol, Chem.SanitizeFlags.SANITIZE_ALL ^ Chem.SanitizeFlags.SANITIZE_PROPERTIES)
        notes.append("ligand valences could not be fully sanitised")
    return mol, notes


def ligand_table(mol, res_name="LIG", chain="L", res_num=1, names=None) -> AtomTable:
    """Typed AtomTable of an RDKit Mol (atom i = row i; call on a Mol without explicit H)."""
    from pocketvox.structure.ligand_typing import typed_columns

    n = mol.GetNumAtoms()
    coords = np.ascontiguousarray(mol.GetConformer().GetPositions(), np.float64).reshape(-1, 3)
    arr = mol_arrays(mol)
    if names is None:
        names = []
        for i in range(n):
            a = mol.GetAtomWithIdx(i)
            info = a.GetPDBResidueInfo()
            names.append(info.GetName().strip() if info is not None else f"{a.GetSymbol()}{i + 1}")
    name = np.array(names, "<U4")
    if name.shape != (n,):
        raise ValueError(f"column name has {name.shape[0]} rows, expected {n}")
    typed = typed_columns(mol, coords, arr)
    return AtomTable(
        coords=coords,
        name=name,
        res_name=np.full(n, res_name, "<U5"),
        res_num=np.full(n, res_num, np.int32),
        icode=np.full(n, "", "<U1"),
        chain=np.full(n, chain, "<U4"),
        serial=np.arange(1, n + 1, dtype=np.int32),
        hetero=np.ones(n, bool),
        **typed,
    )
