"""Grids and labels on real PoseBusters complexes (skip without ../shared)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pocketvox.grid.labels import LabelParams
from pocketvox.grid.voxelize import voxelize
from pocketvox.interactions.result import InteractionSet

PDB_ID = "7N03"  # small (1.3 k atoms) with hbond, hydrophobic and 4 pi-stacking contacts in PLIP


@pytest.fixture(scope="module")
def complex_7n03(posebusters_dir):
    from pocketvox.structure import load_complex

    d = posebusters_dir / PDB_ID
    return load_complex(d / f"{PDB_ID}_protein.pdb", ligand_file=d / f"{PDB_ID}_ligand.sdf")


@pytest.fixture(scope="module")
def plip_interactions(shared_dir):
    ref = json.loads((shared_dir / "reference" / "posebusters_plip.json").read_text())
    it = ref["complexes"][PDB_ID]["interactions"]
    rows = []
    for kind, key in (("hbond", "ligand_atom_coords"), ("hydrophobic", "ligand_atom_coords"),
                      ("pistacking", "ligand_ring_center")):
        for r in it[kind]:
            rows.append(dict(type=kind, ligand_point=r[key],
                             protein_point=r.get("protein_atom_coords", (0, 0, 0)),
                             protein_is_donor=bool(r.get("protein_is_donor", False)), res_chain=r["chain"],
                             res_num=r["resnr"], res_name=r["restype"]))
    return InteractionSet.build(rows)


def _aromatic_ring_centres(sdf) -> np.ndarray:
    from rdkit import Chem

    mol = Chem.MolFromMolFile(str(sdf))
    xyz = mol.GetConformer().GetPositions()
    rings = [r for r in mol.GetRingInfo().AtomRings()
             if all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in r)]
    return np.array([xyz[list(r)].mean(0) for r in rings])


def test_label_voxels_sit_on_the_interacting_ligand_atoms(complex_7n03, plip_interactions, posebusters_dir):
    cx, inter = complex_7n03, plip_interactions
    lig = cx.ligand.coords[cx.ligand.element != "H"]
    grid = voxelize(cx, inter)
    spec = grid.spec
    assert grid.labels.shape == (3,) + spec.shape
    radius = LabelParams().radius
    xyz = spec.to_coords(np.stack(np.meshgrid(*[np.arange(spec.n)] * 3, indexing="ij"), -1))
    rings = _aromatic_ring_centres(posebusters_dir / PDB_ID / f"{PDB_ID}_ligand.sdf")
    for k, name in enumerate(grid.label_names):
        pts = inter.ligand_point[inter.type == name]
        assert len(pts), name
        if name == "pistacking":  # PLIP's ring centre is one of our ligand's aromatic ring centroids
            assert np.min(np.linalg.norm(rings[None] - pts[:, None], axis=-1), axis=1).max() < 0.05
        else:  # PLIP's ligand atom is an atom of our ligand: same frame, same atoms
            assert np.min(np.linalg.norm(lig[None] - pts[:, None], axis=-1), axis=1).max() < 0.01
        lab = grid.labels[k].astype(bool)
        d = np.min(np.linalg.norm(xyz[..., None, :] - pts, axis=-1), axis=-1)
        assert np.array_equal(lab, d <= radius)
        # every labelled voxel lies on the ligand: its ligand occupancy density is substantial
        assert grid.features[15][lab].min() > 0.1  # >= e^-2 at one radius from an atom
        for p in pts:
            assert lab[tuple(spec.nearest_index(p))]
    # a voxel far from every interaction point carries no label
    assert not grid.labels[:, 0, 0, 0].any()


def test_profiler_labels_are_on_ligand_atoms_or_centres(complex_7n03):
    from pocketvox.interactions import profile

    cx = complex_7n03
    inter = profile(cx)
    assert len(inter) > 0
    grid = voxelize(cx, inter, label_classes=("hbond", "hydrophobic"))
    lig = cx.ligand.coords
    for k, name in enumerate(grid.label_names):
        pts = inter.ligand_point[inter.type == name]
        if len(pts) == 0:
            continue
        assert np.min(np.linalg.norm(lig[None] - pts[:, None], axis=-1), axis=1).max() < 0.01
        assert grid.labels[k].sum() >= 7 * len(np.unique(pts.round(3), axis=0)) // 2


def test_real_grid_channels_are_plausible(complex_7n03):
    g = voxelize(complex_7n03)
    names = list(g.channel_names)
    f = dict(zip(names, g.features))
    # occupancy dominates every other channel of the same molecule
    for mol in ("protein", "ligand"):
        occ = f[f"{mol}_occupancy"]
        for k in ("hydrophobic", "aromatic", "hbond_donor", "hbond_acceptor"):
            assert (f[f"{mol}_{k}"] <= occ + 1e-5).all()
    assert f["ligand_occupancy"].sum() > 0 and f["protein_occupancy"].sum() > f["ligand_occupancy"].sum()
    # ligand atoms are at density peaks of the ligand occupancy channel
    heavy = complex_7n03.ligand.coords[complex_7n03.ligand.element != "H"]
    idx = g.spec.nearest_index(heavy)
    assert (f["ligand_occupancy"][idx[:, 0], idx[:, 1], idx[:, 2]] > 0.5).all()
