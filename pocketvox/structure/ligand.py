"""Ligands as RDKit molecules: small-molecule files (SDF/MOL/MOL2/PDB), HETATM residues with bond
orders perceived from heavy-atom geometry (or a SMILES template), and their typed :class:`AtomTable`.

Bond orders of a HETATM ligand: hydrogen counts are guessed from bond angles and lengths
(:func:`guess_hydrogens`), then the double bonds are a maximum matching over the unsaturated atoms
(:func:`_bond_orders_by_matching`); RDKit's ``DetermineBondOrders`` (xyz2mol) is the fallback.
"""

from __future__ import annotations

import math
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


def read_ligand_file(path: str | os.PathLike, index: int = 0):
    """First (or ``index``-th) molecule of an SDF/MOL/MOL2/PDB file as an RDKit Mol without H."""
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
    return finish_ligand_mol(mol, path)


def finish_ligand_mol(mol, path):
    """Sanitise, drop hydrogens, check elements; one-line LigandError on failure."""
    from rdkit import Chem

    if mol.GetNumConformers() == 0:
        raise LigandError(f"{path}: ligand has no 3D coordinates")
    try:
        Chem.SanitizeMol(mol)
    except Exception as e:  # noqa: BLE001 - RDKit raises several types; one line for the user
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise LigandError(f"{path}: RDKit rejected the ligand: {msg}") from None
    mol = Chem.RemoveHs(mol, sanitize=False)
    heavy = [a for a in mol.GetAtoms() if a.GetAtomicNum() > 1]
    if not heavy:
        raise LigandError(f"{path}: ligand has no heavy atoms")
    dummy = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 0]
    if dummy:
        raise LigandError(f"{path}: ligand has dummy/unknown atoms (element '*' at atom {dummy[0] + 1})")
    return mol


def _perceive_bond_orders(mol, smiles: str | None, path, notes: list[str]):
    """Bond orders for a heavy-atom HETATM ligand.

    With a SMILES template, RDKit assigns them from it. Otherwise hydrogen counts are first guessed
    from the heavy-atom geometry (:func:`guess_hydrogens`: bond angles and lengths give each atom's
    hybridisation), explicit hydrogens are added, and RDKit's ``DetermineBondOrders`` (xyz2mol)
    solves the valences, trying small net charges in turn.
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
            return out
        except ValueError:
            raise LigandError(f"{path}: the SMILES template does not match the ligand's atoms") from None
    hcount = guess_hydrogens(mol)
    fast = None
    for _ in range(4):  # an unmatched C/N means it carries one more H than guessed: retry
        fast, hcount = _bond_orders_by_matching(mol, hcount)
        if fast is not None or hcount is None:
            break
    if fast is not None:
        notes.append("bond orders perceived from geometry")
        return fast
    hcount = guess_hydrogens(mol)
    base = Chem.RWMol(mol)
    for a, h in zip(base.GetAtoms(), hcount):
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
        return Chem.RemoveHs(m, sanitize=False)
    notes.append("bond-order perception failed: single bonds assumed (aromaticity and charges may be "
                 "missing; pass --smiles to fix)")
    return mol


#: Usual valence per element for the matching step (P and S: their hypervalent oxo forms).
_VALENCE = {"C": 4, "N": 3, "O": 2, "S": 2, "P": 5, "B": 3, "F": 1, "CL": 1, "BR": 1, "I": 1, "SE": 2}


def _bond_orders_by_matching(mol, hcount: list[int]):
    """Kekulé bond orders as a maximum matching over unsaturated atoms (fast, milliseconds).

    Each heavy atom's unsaturation is its usual valence minus heavy degree minus guessed H. A
    maximum-cardinality matching (Edmonds' blossom, networkx) over bonds joining unsaturated atoms
    gives the double bonds; terminal O/S left unsaturated become anions (carboxylate, phosphate);
    an unsaturated atom left over anywhere else means the hydrogen guess was too low there:
    returns ``(None, hcount with one more H on those atoms)`` for another try, ``(None, None)``
    when nothing can be fixed, and ``(mol, hcount)`` on success.
    """
    import networkx as nx
    from rdkit import Chem

    n = mol.GetNumAtoms()
    deg = [a.GetDegree() for a in mol.GetAtoms()]
    el = [a.GetSymbol().upper() for a in mol.GetAtoms()]
    unsat = []
    for i in range(n):
        v = _VALENCE.get(el[i], 0)
        if el[i] == "S":
            o_term = sum(1 for nb in mol.GetAtomWithIdx(i).GetNeighbors()
                         if nb.GetSymbol() == "O" and nb.GetDegree() == 1)
            v = {0: 2, 1: 4}.get(o_term, 6) if deg[i] > 1 else 2
            if deg[i] == 3 and o_term == 1:
                v = 4
        unsat.append(max(v - deg[i] - hcount[i], 0))
    g = nx.Graph()
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        if unsat[i] > 0 and unsat[j] > 0:
            g.add_edge(i, j)
    rw = Chem.RWMol(mol)
    left = list(unsat)
    for i, j in nx.max_weight_matching(g, maxcardinality=True):
        rw.GetBondBetweenAtoms(i, j).SetBondType(Chem.BondType.DOUBLE)
        left[i] -= 1
        left[j] -= 1
    # sp atoms (nitriles, alkynes) need a second pi bond; P/S oxo acids may take more than one
    for b in rw.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        while left[i] > 0 and left[j] > 0:
            b.SetBondType(Chem.BondType.TRIPLE if b.GetBondType() == Chem.BondType.DOUBLE
                          and el[i] not in ("P", "S") and el[j] not in ("P", "S") else Chem.BondType.DOUBLE)
            left[i] -= 1
            left[j] -= 1
            if el[i] in ("P", "S") or el[j] in ("P", "S"):
                break
    stray = [i for i in range(n) if left[i] > 0 and el[i] in ("C", "N")]
    if stray:
        return None, [h + (1 if i in stray else 0) for i, h in enumerate(hcount)]
    for i in range(n):
        a = rw.GetAtomWithIdx(i)
        if left[i] > 0:
            if el[i] in ("O", "S") and deg[i] == 1:
                a.SetFormalCharge(-1)
            elif el[i] not in ("P", "S"):  # leftover valence on an oxo acid's centre is fine
                return None, None
        a.SetNumExplicitHs(int(hcount[i]))
        a.SetNoImplicit(True)
        if el[i] == "N" and deg[i] + hcount[i] == 4:
            a.SetFormalCharge(1)
    # P/S central atoms: the oxo double bonds use the valence; remaining terminal O are anions
    out = rw.GetMol()
    try:
        Chem.SanitizeMol(out)
    except Exception:  # noqa: BLE001
        return None, None
    for a in out.GetAtoms():
        a.SetNoImplicit(False)
    return out, hcount


#: Thresholds for hybridisation from heavy-atom geometry (degrees / Å). sp3 angles are ~109.5°,
#: sp2 ~120°, sp ~180°; single C-O ~1.43, C=O ~1.23; C-C 1.54, C=C 1.34; C-N 1.47, C=N 1.28.
SP3_MAX_ANGLE = 117.5
SP_MIN_ANGLE = 155.0
PLANAR_MAX_DEVIATION = 0.15  # Å out of the plane of its three neighbours


def guess_hydrogens(mol) -> list[int]:
    """Implicit hydrogen count per heavy atom from 3D geometry (no bond orders needed)."""
    from rdkit import Chem

    rings = [list(r) for r in Chem.GetSymmSSSR(mol)]
    pos = mol.GetConformer().GetPositions()
    ring_planar = np.zeros(mol.GetNumAtoms(), bool)
    for ring in rings:
        if len(ring) <= 7 and _ring_rms(pos[list(ring)]) < 0.1:
            ring_planar[list(ring)] = True
    # plain-Python geometry: a few neighbours per atom, where NumPy's per-call cost would dominate
    xyz = pos.tolist()
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    out = []
    for a in mol.GetAtoms():
        i = a.GetIdx()
        nb = [n.GetIdx() for n in a.GetNeighbors() if n.GetAtomicNum() > 1]
        d = len(nb)
        el = symbols[i]
        vec = [[xyz[j][k] - xyz[i][k] for k in range(3)] for j in nb]
        lens = [math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) for v in vec]
        ang = _mean_angle(vec, lens) if d >= 2 else 0.0
        planar = d == 3 and _out_of_plane(xyz[i], [xyz[j] for j in nb]) < PLANAR_MAX_DEVIATION
        nb_el = [symbols[j] for j in nb]
        h = 0
        if el == "C":
            if d == 3:
                h = 0 if planar else 1
            elif d == 2:
                if ang > SP_MIN_ANGLE:
                    h = 0
                elif a.IsInRing():
                    # ring angles say little (a 5-ring is ~108° either way): planarity and bond
                    # length decide (an sp3 CH2 in a flat ring, as in indanone, keeps 1.50 Å bonds)
                    h = 1 if ring_planar[i] and min(lens) < 1.45 else 2
                else:
                    h = 1 if (ang > SP3_MAX_ANGLE or min(lens) < 1.37) else 2
            elif d == 1:
                if nb_el[0] != "C":
                    h = 3
                else:
                    h = 1 if lens[0] < 1.25 else (2 if lens[0] < 1.40 else 3)
            elif d == 0:
                h = 4
        elif el == "N":
            if d == 3:
                h = 0
            elif d == 2:
                in5 = a.IsInRingSize(5)
                if ang > SP_MIN_ANGLE:
                    h = 0
                elif ang < SP3_MAX_ANGLE and not a.IsInRing():
                    h = 1
                elif a.IsInRing():
                    # pyrrole-type N (N-H) has longer ring bonds than pyridine-type N; a ring N next
                    # to a carbonyl carbon is a lactam N-H (uracil, guanine)
                    lactam = any(_has_short_terminal_o(mol, pos, j) for j in nb)
                    mean_len = sum(lens) / d
                    h = 1 if lactam or (in5 and mean_len > 1.355) or (not in5 and min(lens) > 1.40) else 0
                else:
                    h = 0 if min(lens) < 1.32 else 1
            elif d == 1:
                h = 0 if lens[0] < 1.20 else (1 if lens[0] < 1.30 else 2)
            elif d == 0:
                h = 3
        elif el == "O":
            if d == 1:
                if nb_el[0] in ("P", "S"):
                    h = 0
                else:
                    h = 0 if lens[0] < 1.30 else 1
            elif d == 0:
                h = 2
        elif el == "S":
            if d == 1:
                h = 1 if lens[0] > 1.70 and nb_el[0] == "C" else 0
            elif d == 0:
                h = 2
        out.append(h)
    return out


def _has_short_terminal_o(mol, pos, j: int) -> bool:
    a = mol.GetAtomWithIdx(j)
    if a.GetSymbol() != "C":
        return False
    return any(n.GetSymbol() == "O" and n.GetDegree() == 1 and np.linalg.norm(pos[n.GetIdx()] - pos[j]) < 1.30
               for n in a.GetNeighbors())


def _ring_rms(pts: np.ndarray) -> float:
    c = pts - pts.mean(0)
    return float(np.sqrt(np.linalg.svd(c, compute_uv=False)[-1] ** 2 / len(pts)))


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


def _mean_angle(vec: list, lens: list) -> float:
    """Mean angle (degrees) between every pair of bond vectors."""
    total, n = 0.0, 0
    for p in range(len(vec)):
        for q in range(p + 1, len(vec)):
            c = sum(vec[p][k] * vec[q][k] for k in range(3)) / (lens[p] * lens[q])
            total += math.degrees(math.acos(max(-1.0, min(1.0, c))))
            n += 1
    return total / n


def _out_of_plane(center: list, nbrs: list) -> float:
    """Distance (Å) of ``center`` from the plane through its three neighbours."""
    u = [nbrs[1][k] - nbrs[0][k] for k in range(3)]
    v = [nbrs[2][k] - nbrs[0][k] for k in range(3)]
    n = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    nn = math.sqrt(n[0] ** 2 + n[1] ** 2 + n[2] ** 2)
    w = [center[k] - nbrs[0][k] for k in range(3)]
    return abs(sum(w[k] * n[k] for k in range(3))) / nn if nn > 1e-6 else 0.0


def ligand_from_residue(ps: ParsedStructure, cand: LigandCandidate, smiles: str | None = None):
    """RDKit Mol of a HETATM residue (heavy atoms in file order) plus notes."""
    from rdkit import Chem
    from rdkit.Geometry import Point3D

    _rdkit_quiet()
    s = ps.sites
    rows = cand.rows
    notes: list[str] = []
    rw = Chem.RWMol()
    for e in s.element[rows]:
        sym = e.capitalize()
        try:
            a = Chem.Atom(sym)
        except RuntimeError:
            raise LigandError(f"{ps.path}: ligand {cand.id} has unknown element {e!r}") from None
        a.SetNoImplicit(False)
        rw.AddAtom(a)
    local = _subset_bonds(ps.het_bonds, np.isin(np.arange(len(s)), rows))
    if len(rows) and not ps.receptor_mask[rows].any() and len(local) == 0 and len(rows) > 1:
        local = perceive_bonds(s.coords[rows], s.element[rows])
    elif ps.receptor_mask[rows].any():  # a residue named from the receptor (e.g. a modified one)
        local = perceive_bonds(s.coords[rows], s.element[rows])
    # CONECT records (when the file has them) override distance-based bonds inside the ligand
    if len(s.conect):
        ser = s.serial[rows]
        inside = np.isin(s.conect, ser).all(1) & (s.conect[:, 0] != s.conect[:, 1])
        if inside.any():
            order = np.argsort(ser)
            pos = order[np.searchsorted(ser, s.conect[inside], sorter=order)]
            local = np.unique(np.sort(pos, axis=1), axis=0).astype(np.int32)
            notes.append("connectivity from CONECT records")
    for i, j in local.tolist():
        rw.AddBond(int(i), int(j), Chem.BondType.SINGLE)
    mol = rw.GetMol()
    conf = Chem.Conformer(mol.GetNumAtoms())
    for k, (x, y, z) in enumerate(s.coords[rows]):
        conf.SetAtomPosition(k, Point3D(float(x), float(y), float(z)))
    mol.AddConformer(conf, assignId=True)
    mol.UpdatePropertyCache(strict=False)
    mol = _perceive_bond_orders(mol, smiles, ps.path, notes)
    try:
        Chem.SanitizeMol(mol)
    except Exception:  # noqa: BLE001
        mol.UpdatePropertyCache(strict=False)
        Chem.SanitizeMol(mol, Chem.SanitizeFlags.SANITIZE_ALL ^ Chem.SanitizeFlags.SANITIZE_PROPERTIES)
        notes.append("ligand valences could not be fully sanitised")
    return mol, notes


def ligand_table(mol, res_name="LIG", chain="L", res_num=1, names=None) -> AtomTable:
    """Typed AtomTable of an RDKit Mol (atom i = row i; call on a Mol without explicit H)."""
    from pocketvox.structure.ligand_typing import type_ligand

    n = mol.GetNumAtoms()
    coords = mol.GetConformer().GetPositions()
    element = np.array([a.GetSymbol().upper() for a in mol.GetAtoms()], "<U2")
    b = np.array([(bd.GetBeginAtomIdx(), bd.GetEndAtomIdx(), bd.GetBondTypeAsDouble()) for bd in mol.GetBonds()],
                 np.float64).reshape(-1, 3)
    bonds = np.sort(b[:, :2].astype(np.int32), axis=1)
    if names is None:
        names = []
        for a in mol.GetAtoms():
            info = a.GetPDBResidueInfo()
            names.append(info.GetName().strip() if info is not None else f"{a.GetSymbol()}{a.GetIdx() + 1}")
    table = AtomTable.from_columns(
        coords=coords,
        element=element,
        name=np.array(names, "<U4"),
        res_name=np.full(n, res_name, "<U5"),
        res_num=np.full(n, res_num, np.int32),
        chain=np.full(n, chain, "<U4"),
        hetero=np.ones(n, bool),
        bonds=bonds,
        bond_order=b[:, 2].astype(np.float32),
    )
    return type_ligand(table, mol)
