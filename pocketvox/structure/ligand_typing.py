"""Ligand atom typing from an RDKit molecule, with PLIP 3.0.1 (Open Babel 3.2.1) semantics.

The rules (donors and acceptors after Open Babel's neutral-form hydrogen addition, hydrophobic carbons,
aromatic rings by RDKit aromaticity or planarity, PLIP's charged functional groups) are described in
:mod:`pocketvox.structure.typing`, which types the receptor.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pocketvox.structure.atoms import MAX_GROUP, MAX_RING, AtomTable, pad_groups
from pocketvox.structure.typing import AROMATIC_PLANARITY, HALOGEN_ELEMENTS, METAL_ELEMENTS


def _ob_hybridisation_n(mol) -> np.ndarray:
    """(N,) int: Open Babel's hybridisation rule for nitrogen (atomtyp.txt INTHYB): sp if triple
    bonded or cumulated, sp2 if aromatic, double bonded, bonded to a C/N/O that carries a double,
    aromatic or triple bond, or bonded to an aromatic atom; sp3 otherwise. 0 for other elements."""
    from rdkit import Chem

    n = mol.GetNumAtoms()
    out = np.zeros(n, np.int64)
    single = Chem.BondType.SINGLE

    def unsat(atom):
        return atom.GetIsAromatic() or any(b.GetBondType() != single for b in atom.GetBonds())

    for a in mol.GetAtoms():
        if a.GetAtomicNum() != 7:
            continue
        bts = [b.GetBondType() for b in a.GetBonds()]
        if Chem.BondType.TRIPLE in bts or bts.count(Chem.BondType.DOUBLE) >= 2:
            out[a.GetIdx()] = 1
        elif a.GetIsAromatic() or Chem.BondType.DOUBLE in bts or Chem.BondType.AROMATIC in bts:
            out[a.GetIdx()] = 2
        elif any((nb.GetAtomicNum() in (6, 7, 8) and unsat(nb)) or nb.GetIsAromatic() for nb in a.GetNeighbors()):
            out[a.GetIdx()] = 2
        else:
            out[a.GetIdx()] = 3
    return out


def _ring_is_planar(coords: np.ndarray, ring: list[int], nbrs: list[list[int]]) -> bool:
    ring_set = set(ring)
    normals = []
    for a in ring:
        inr = [b for b in nbrs[a] if b in ring_set][:2]
        if len(inr) < 2:
            return False
        normals.append(np.cross(coords[inr[0]] - coords[a], coords[inr[1]] - coords[a]))
    v = np.array(normals)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cos = np.clip(np.abs(v @ v.T), 0, 1)
    return bool((np.degrees(np.arccos(cos)) <= AROMATIC_PLANARITY + 1e-9).all())


def _ligand_groups(mol, hyb_n: np.ndarray) -> list[tuple[list[int], int, str]]:
    """PLIP's charged functional groups on the heavy-atom graph: (members, sign, kind)."""
    out = []
    for a in mol.GetAtoms():
        i, z = a.GetIdx(), a.GetAtomicNum()
        nb = [x for x in a.GetNeighbors() if x.GetAtomicNum() > 1]
        nz = [x.GetAtomicNum() for x in nb]
        if z == 7:
            if len(nb) == 4:
                out.append(([i], 1, "quaternary_amine"))
            elif hyb_n[i] == 3 and len(nb) >= 3:
                out.append(([i], 1, "tertiary_amine"))
        elif z == 16:
            if len(nb) == 3:
                out.append(([i], 1, "sulfonium"))
            elif nz.count(8) == 3:
                out.append(([i] + [x.GetIdx() for x in nb if x.GetAtomicNum() == 8], -1, "sulfonate"))
            elif nz.count(8) == 4:
                out.append(([i] + [x.GetIdx() for x in nb], -1, "sulfate"))
        elif z == 15 and nz and set(nz) == {8}:
            out.append(([i] + [x.GetIdx() for x in nb], -1, "phosphate"))
        elif z == 6:
            if nz.count(8) == 2 and nz.count(6) == 1:
                out.append(([x.GetIdx() for x in nb if x.GetAtomicNum() == 8], -1, "carboxylate"))
            elif nz.count(7) == 3 and len(nz) == 3:
                if min(sum(1 for y in x.GetNeighbors() if y.GetAtomicNum() > 1) for x in nb) == 1:
                    out.append(([x.GetIdx() for x in nb], 1, "guanidine"))
    return out


def type_ligand(atoms: AtomTable, mol) -> AtomTable:
    """Type a ligand table from its RDKit molecule (atom i of ``mol`` is row i; heavy atoms with
    implicit hydrogen counts and bond orders set). Returns a new table.

    The hydrogen-group centres of charged groups follow PLIP: carboxylate -> mean of the two O;
    phosphate / sulfonate / sulfate / amines / sulfonium -> the central atom (first member);
    guanidine -> the three N (PLIP uses the central C; their mean is within 0.1 Å of it).
    """
    t = atoms
    n = len(t)
    if mol.GetNumAtoms() != n:
        raise ValueError(f"type_ligand: molecule has {mol.GetNumAtoms()} atoms, table has {n} rows")
    el = np.array([a.GetSymbol().upper() for a in mol.GetAtoms()], "<U2")
    z = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], np.int64)
    fc = np.array([a.GetFormalCharge() for a in mol.GetAtoms()], np.int64)
    nh = np.array([a.GetTotalNumHs() for a in mol.GetAtoms()], np.int64)
    hdeg = np.array([sum(1 for x in a.GetNeighbors() if x.GetAtomicNum() > 1) for a in mol.GetAtoms()], np.int64)
    nbrs = [[x.GetIdx() for x in a.GetNeighbors()] for a in mol.GetAtoms()]
    hyb_n = _ob_hybridisation_n(mol)

    # Open Babel adds hydrogens to the neutral form: a cation loses its extra H, an anion gains one.
    nh_neutral = np.clip(nh - fc, 0, None)
    total = hdeg + nh_neutral
    donor = ((z == 7) | (z == 8)) & (nh_neutral > 0)
    acc_n = (z == 7) & ~(((total == 4) & (hyb_n == 3)) | ((total == 3) & (hyb_n == 2)))
    acceptor = (z == 8) | acc_n | ((z == 16) & (fc == -1))

    nonc = np.zeros(n, bool)
    for i, j in ((b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()):
        if z[j] != 6 and z[j] > 1:
            nonc[i] = True
        if z[i] != 6 and z[i] > 1:
            nonc[j] = True
    hydrophobic = (z == 6) & ~nonc

    coords = t.coords
    from rdkit import Chem

    rings = []
    # The reader may hand over a molecule whose ring info is not initialised (RemoveHs without
    # sanitising): compute the SSSR explicitly.
    for ring in Chem.GetSSSR(mol):
        if not 4 < len(ring) <= 6:
            continue
        if all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring) or _ring_is_planar(coords, list(ring), nbrs):
            rings.append(list(ring))
    rings_arr = pad_groups(rings, MAX_RING)
    aromatic = np.zeros(n, bool)
    aromatic[rings_arr[rings_arr >= 0]] = True

    groups = _ligand_groups(mol, hyb_n)
    garr = pad_groups([g[0] for g in groups], MAX_GROUP)
    gsign = np.array([g[1] for g in groups], np.int8)
    gkind = np.array([g[2] for g in groups], "<U16") if groups else np.zeros(0, "<U16")
    charge = np.zeros(n, np.int8)
    for g, s, _ in groups:
        charge[g] = s
    # Formal charges of atoms outside PLIP's groups are kept for information (not used for bridges).
    charge = np.where(charge == 0, np.clip(fc, -1, 1), charge).astype(np.int8)

    bonds = np.array([[b.GetBeginAtomIdx(), b.GetEndAtomIdx()] for b in mol.GetBonds()], np.int32).reshape(-1, 2)
    bonds = np.sort(bonds, axis=1)
    order = np.array([b.GetBondTypeAsDouble() for b in mol.GetBonds()], np.float32)
    return replace(
        t, element=el, donor=donor, acceptor=acceptor, hydrophobic=hydrophobic, aromatic=aromatic,
        metal=np.isin(el, list(METAL_ELEMENTS)), halogen=np.isin(el, list(HALOGEN_ELEMENTS)), charge=charge,
        bonds=bonds, bond_order=order, rings=rings_arr, groups=garr, group_sign=gsign, group_kind=gkind,
    )
