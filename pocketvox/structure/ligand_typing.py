"""Ligand atom typing from an RDKit molecule, with PLIP 3.0.1 (Open Babel 3.2.1) semantics.

The rules (donors and acceptors after Open Babel's neutral-form hydrogen addition, hydrophobic carbons,
aromatic rings by RDKit aromaticity or planarity, PLIP's charged functional groups) are described in
:mod:`pocketvox.structure.typing`, which types the receptor. The molecule is read into arrays once
(:func:`pocketvox.structure.ligand.mol_arrays`); the rules run in
:func:`pocketvox.structure._ligand_kernels.type_kernel`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pocketvox.structure.atoms import MAX_GROUP, MAX_RING, AtomTable, pad_groups
from pocketvox.structure.typing import AROMATIC_PLANARITY


def typed_columns(mol, coords: np.ndarray, arr: dict | None = None) -> dict[str, np.ndarray]:
    """Typed AtomTable columns of an RDKit Mol (atom i = row i; ``coords`` (N, 3) Å).

    ``arr``: :func:`pocketvox.structure.ligand.mol_arrays` of ``mol`` if already read. Returns
    element, donor, acceptor, hydrophobic, aromatic, metal, halogen, charge, bonds, bond_order,
    rings, groups, group_sign and group_kind.
    """
    from rdkit import Chem

    from pocketvox.structure import _ligand_kernels as K
    from pocketvox.structure.ligand import _element_tables, _ring_arrays, mol_arrays

    if arr is None:
        arr = mol_arrays(mol)
    z = arr["z"]
    n = len(z)
    # The reader may hand over a molecule whose ring info is not initialised (RemoveHs without
    # sanitising): compute the SSSR explicitly.
    rings = [list(r) for r in Chem.GetSSSR(mol)]
    ptr, ring_atoms = _ring_arrays(rings)
    xyz = np.ascontiguousarray(coords, np.float64)
    donor, acceptor, hydrophobic, keep, groups, gsign, gkind, charge = K.type_kernel(
        z, arr["fc"], arr["nh"], arr["arom"], arr["bonds"], arr["btype"], xyz, ptr, ring_atoms,
        AROMATIC_PLANARITY, MAX_GROUP)
    rings_arr = pad_groups([r for r, k in zip(rings, keep.tolist()) if k], MAX_RING)
    aromatic = np.zeros(n, bool)
    aromatic[rings_arr[rings_arr >= 0]] = True
    tab = _element_tables()
    zc = np.clip(z, 0, len(tab["symbol"]) - 1)
    return dict(
        element=tab["symbol"][zc], donor=donor, acceptor=acceptor, hydrophobic=hydrophobic, aromatic=aromatic,
        metal=tab["metal"][zc], halogen=tab["halogen"][zc], charge=charge,
        bonds=np.sort(arr["bonds"], axis=1).astype(np.int32), bond_order=arr["order"].astype(np.float32),
        rings=rings_arr, groups=groups, group_sign=gsign,
        group_kind=np.array(K.GROUP_KINDS, "<U16")[gkind] if len(gkind) else np.zeros(0, "<U16"),
    )


def type_ligand(atoms: AtomTable, mol) -> AtomTable:
    """Type a ligand table from its RDKit molecule (atom i of ``mol`` is row i; heavy atoms with
    implicit hydrogen counts and bond orders set). Returns a new table.

    The hydrogen-group centres of charged groups follow PLIP: carboxylate -> mean of the two O;
    phosphate / sulfonate / sulfate / amines / sulfonium -> the central atom (first member);
    guanidine -> the three N (PLIP uses the central C; their mean is within 0.1 Å of it).
    """
    n = len(atoms)
    if mol.GetNumAtoms() != n:
        raise ValueError(f"type_ligand: molecule has {mol.GetNumAtoms()} atoms, table has {n} rows")
    return replace(atoms, **typed_columns(mol, atoms.coords))
