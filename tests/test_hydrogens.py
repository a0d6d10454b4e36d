"""Donor hydrogens placed as Open Babel adds them (pocketvox.interactions.hydrogens)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rdkit")

from rdkit import Chem  # noqa: E402
from rdkit.Chem import AllChem  # noqa: E402

from pocketvox.interactions.hydrogens import ARBITRARY, FREE, PLACED, donor_hydrogens  # noqa: E402
from pocketvox.interactions.site import padded_neighbors  # noqa: E402
from pocketvox.structure.ligand import ligand_table  # noqa: E402


def _table(smiles: str, seed: int = 7):
    m = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(m, randomSeed=seed)
    m = Chem.RemoveHs(m)
    return ligand_table(m)


def _place(t, element: str, bond_orders: bool = True, which: int = 0):
    """(donor row, neighbour table, the donor's placed hydrogens (n, 3) without empty slots, status)."""
    donors = np.flatnonzero(t.element == element)[which:which + 1]
    nbr = padded_neighbors(t, np.arange(len(t)), 4)
    h, status = donor_hydrogens(t, donors, nbr, bond_orders)
    return donors[0], nbr, h[0][~np.isnan(h[0, :, 0])], status[0]


def _angle(a, b, c) -> float:
    u, v = a - b, c - b
    return float(np.degrees(np.arccos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))))


def _dihedral(p0, p1, p2, p3) -> float:
    b0, b1, b2 = p0 - p1, p2 - p1, p3 - p2
    b1 = b1 / np.linalg.norm(b1)
    v, w = b0 - np.dot(b0, b1) * b1, b2 - np.dot(b2, b1) * b1
    return float(np.degrees(np.arctan2(np.dot(np.cross(b1, v), w), np.dot(v, w))))


def test_hydroxyl_is_anti_to_the_highest_neighbour_of_its_carbon():
    t = _table("CC(C)O")  # isopropanol: the OH carbon has two other neighbours
    o, nbr, h, status = _place(t, "O")
    assert status == PLACED
    x = nbr[o, 0]
    others = [j for j in nbr[x] if j >= 0 and j != o]
    top = max(others, key=lambda j: t.coords[j, 2])
    low = min(others, key=lambda j: t.coords[j, 2])
    xyz = t.coords
    assert _angle(xyz[x], xyz[o], h[0]) == pytest.approx(109.47, abs=0.1)
    assert abs(_dihedral(xyz[top], xyz[x], xyz[o], h[0])) == pytest.approx(180.0, abs=0.5)
    assert abs(_dihedral(xyz[low], xyz[x], xyz[o], h[0])) < 150.0
    assert len(h) == 1  # one hydrogen on O


def test_phenol_hydrogen_lies_in_the_ring_plane_at_120_degrees():
    t = _table("Oc1ccccc1")
    o, nbr, h, status = _place(t, "O")
    x = nbr[o, 0]
    xyz = t.coords
    assert status == PLACED
    assert _angle(xyz[x], xyz[o], h[0]) == pytest.approx(120.0, abs=0.1)
    ortho = [j for j in nbr[x] if j >= 0 and j != o]
    dihedrals = sorted(abs(_dihedral(xyz[j], xyz[x], xyz[o], h[0])) for j in ortho)
    assert dihedrals[0] < 10.0 and dihedrals[1] > 170.0


def test_carboxylic_acid_hydrogen_is_anti_to_the_other_oxygen():
    t = _table("CC(=O)O")
    oxygens = np.flatnonzero(t.element == "O")
    order = t.bond_order
    single_o = [o for o in oxygens if all(order[b] < 1.5 for b in np.flatnonzero((t.bonds == o).any(1)))][0]
    nbr = padded_neighbors(t, np.arange(len(t)), 4)
    h, status = donor_hydrogens(t, np.array([single_o]), nbr, True)
    other = [o for o in oxygens if o != single_o][0]
    c = nbr[single_o, 0]
    assert status[0] == PLACED
    assert abs(_dihedral(t.coords[other], t.coords[c], t.coords[single_o], h[0, 0])) == pytest.approx(180.0, abs=0.5)


def test_amide_nh2_gets_two_hydrogens_in_plane_and_amine_nh2_a_staggered_pair():
    amide = _table("CC(N)=O")
    n, nbr, h, _ = _place(amide, "N")
    x = nbr[n, 0]
    ref = [j for j in nbr[x] if j >= 0 and j != n]
    d = sorted(abs(_dihedral(amide.coords[ref[0]], amide.coords[x], amide.coords[n], p)) for p in h)
    assert d[0] < 5.0 and d[1] > 175.0
    amine = _table("CCN")
    n, nbr, h, _ = _place(amine, "N")
    x = nbr[n, 0]
    ref = [j for j in nbr[x] if j >= 0 and j != n][0]
    d = [_dihedral(amine.coords[ref], amine.coords[x], amine.coords[n], p) for p in h]
    assert abs(d[0]) == pytest.approx(180.0, abs=0.5)
    assert abs(d[1]) == pytest.approx(60.0, abs=0.5)
    assert all(_angle(amine.coords[x], amine.coords[n], p) == pytest.approx(109.47, abs=0.1) for p in h)


def test_imine_nitrogen_carries_one_hydrogen():
    t = _table("CC(C)=N")
    _, _, h, status = _place(t, "N")
    assert status == PLACED and len(h) == 1


def test_secondary_amine_hydrogen_leaves_the_cnc_plane_only_with_bond_orders():
    t = _table("C1CCNCC1")
    n, nbr, h, _ = _place(t, "N", bond_orders=True)
    a, b = [j for j in nbr[n] if j >= 0]
    normal = np.cross(t.coords[a] - t.coords[n], t.coords[b] - t.coords[n])
    off_plane = abs(np.dot(h[0] - t.coords[n], normal / np.linalg.norm(normal)))
    assert off_plane > 0.5  # tetrahedral position
    _, _, h_flat, _ = _place(t, "N", bond_orders=False)
    off_plane = abs(np.dot(h_flat[0] - t.coords[n], normal / np.linalg.norm(normal)))
    assert off_plane < 1e-6  # bisector when the bond orders are unknown (receptor tables)


def test_methanol_rotation_is_arbitrary_and_water_free():
    t = _table("CO")
    _, _, h, status = _place(t, "O")
    assert status == ARBITRARY and len(h) == 0
    w = _table("O")
    _, _, h, status = _place(w, "O")
    assert status == FREE


def _tetrahedral_alcohol():
    """Ligand C(C)(C)O with the OH carbon at the origin; its other carbons above and below (z)."""
    from pocketvox.structure.atoms import AtomTable

    xyz = np.array([[0.0, 0.0, 0.0], [-0.5, 0.0, 1.43], [-0.5, 1.2, -0.8], [1.43, 0.0, 0.0]])
    return AtomTable.from_columns(coords=xyz, element=["C", "C", "C", "O"], bonds=[(0, 1), (0, 2), (0, 3)],
                                  bond_order=np.ones(3, np.float32), donor=[False, False, False, True],
                                  acceptor=[False, False, False, True], hetero=np.ones(4, bool))


def _acceptor_at(xyz):
    from pocketvox.structure.atoms import AtomTable

    xyz = np.asarray(xyz, float)
    return AtomTable.from_columns(coords=[xyz, xyz + [0.0, 0.0, 1.23]], element=["O", "C"], name=["O", "C"],
                                  res_name=["GLY", "GLY"], bonds=[(0, 1)], acceptor=[True, False])


def test_profiler_uses_open_babels_hydroxyl_hydrogen():
    from pocketvox.interactions import ProfilerConfig
    from pocketvox.interactions.profile import profile_tables

    lig = _tetrahedral_alcohol()
    nbr = padded_neighbors(lig, np.arange(4), 4)
    h, _ = donor_hydrogens(lig, np.array([3]), nbr, True)
    o = lig.coords[3]
    along = o + 2.9 * (h[0, 0] - o) / np.linalg.norm(h[0, 0] - o)
    assert len(profile_tables(_acceptor_at(along), lig).of_type("hbond")) == 1
    # the staggered position syn to the top carbon: Open Babel's hydrogen points away from it
    top, x = lig.coords[1], lig.coords[0]
    axis = (o - x) / np.linalg.norm(o - x)
    syn = top - x - np.dot(top - x, axis) * axis
    behind = o + 2.9 * (0.34 * axis + 0.94 * syn / np.linalg.norm(syn))
    assert len(profile_tables(_acceptor_at(behind), lig).of_type("hbond")) == 0
    rotor = ProfilerConfig(hbond_hydrogen_model="rotor")
    assert len(profile_tables(_acceptor_at(behind), lig, rotor).of_type("hbond")) == 1


def test_given_hydrogens_are_used_and_decide_the_donors():
    from pocketvox.interactions.hydrogens import effective_donors, given_hydrogens
    from pocketvox.structure.atoms import AtomTable

    t = _tetrahedral_alcohol()
    assert np.array_equal(effective_donors(t), t.donor)
    h_on_o = t.coords[3] + [0.3, 0.9, 0.0]
    with_h = AtomTable.from_columns(**{f: getattr(t, f) for f in ("coords", "element", "bonds", "bond_order",
                                                                 "donor", "acceptor", "hetero")},
                                    h_coords=[h_on_o, [0.0, -1.0, -0.3]], h_parent=[3, 0])
    assert effective_donors(with_h).tolist() == [False, False, False, True]
    g = given_hydrogens(with_h, np.array([3, 1]))
    assert np.allclose(g[0, 0], h_on_o) and np.isnan(g[0, 1:]).all() and np.isnan(g[1]).all()
    nbr = padded_neighbors(with_h, np.arange(4), 4)
    h, status = donor_hydrogens(with_h, np.array([3]), nbr, True)
    assert status[0] == PLACED and np.allclose(h[0, 0], h_on_o)
    # selecting rows re-indexes the hydrogens and drops those of removed atoms
    sub = with_h.select(np.array([False, True, True, True]))
    assert sub.h_parent.tolist() == [2] and np.allclose(sub.h_coords[0], h_on_o)
    assert len(with_h.with_coords(with_h.coords + 1.0).h_parent) == 0  # a new pose: hydrogens would not follow


def test_sdf_hydrogens_ride_along(tmp_path):
    from pocketvox.structure.ligand import read_ligand_file

    m = Chem.AddHs(Chem.MolFromSmiles("OCC(N)=O"))
    AllChem.EmbedMolecule(m, randomSeed=3)
    path = tmp_path / "lig.sdf"
    Chem.MolToMolFile(m, str(path))
    mol, (h_coords, h_parent) = read_ligand_file(path, hydrogens=True)
    assert mol.GetNumAtoms() == 5 and len(h_coords) == m.GetNumAtoms() - 5
    d = np.linalg.norm(h_coords - mol.GetConformer().GetPositions()[h_parent], axis=1)
    assert (d < 1.2).all()
    polar = {mol.GetAtomWithIdx(int(i)).GetSymbol() for i in h_parent} & {"N", "O"}
    assert polar == {"N", "O"}


def test_deposited_ligand_hydrogens_1hpx(plip_dir):
    """1hpx (HIV protease + KNI-272): the ligand's hydrogens are in the file and PLIP uses them; the
    hydroxyl's deposited H points at Asp25A, where Open Babel's rule for a bare heavy atom would not."""
    from pocketvox.interactions import profile
    from pocketvox.structure import load_complex

    c = load_complex(plip_dir / "pdb" / "1hpx.pdb", ligand="KNI:B:900", site_radius=12.0)
    assert len(c.ligand.h_parent) == 41 and len(c.protein.h_parent) == 0
    d = np.linalg.norm(c.ligand.h_coords - c.ligand.coords[c.ligand.h_parent], axis=1)
    assert (d < 1.2).all()
    hb = profile(c).of_type("hbond")
    assert (25, "A") in set(zip(hb.res_num.tolist(), hb.res_chain.tolist()))


def test_receptor_donors_follow_open_babels_protonation():
    """His ND1 keeps its hydrogen only above CD2 in z; an Asp/Glu carboxylate donates from its
    higher-z oxygen (Open Babel's choices on its z-ordered bond list, which PLIP inherits)."""
    from pocketvox.interactions.hydrogens import effective_donors
    from pocketvox.structure.atoms import MAX_GROUP, MAX_RING, AtomTable

    def his_and_asp(dz_nd1, dz_od2):
        # rows 0-4: His ring CG ND1 CE1 NE2 CD2 (z of ND1 relative to CD2 set by dz_nd1); 5-6: Asp OD1 OD2
        xyz = np.array([[0, 0, 0], [1.2, 0.7, dz_nd1], [2.3, 0, 0], [1.9, -1.2, 0], [0.6, -1.2, 0],
                        [5, 0, 0], [6, 1, dz_od2]], float)
        ring = np.full((1, MAX_RING), -1)
        ring[0, :5] = [0, 1, 2, 3, 4]
        acid = np.full((1, MAX_GROUP), -1)
        acid[0, :2] = [5, 6]
        return AtomTable.from_columns(
            coords=xyz, element=["C", "N", "C", "N", "C", "O", "O"],
            name=["CG", "ND1", "CE1", "NE2", "CD2", "OD1", "OD2"],
            res_name=["HIS"] * 5 + ["ASP"] * 2, donor=[False, True, False, False, False, False, False],
            rings=ring, groups=acid, group_sign=np.array([-1], np.int8),
            group_kind=np.array(["carboxylate"], "<U16"))

    up = his_and_asp(0.3, 0.4)
    assert effective_donors(up, receptor=True).tolist() == [False, True, False, False, False, False, True]
    down = his_and_asp(-0.3, -0.4)
    assert effective_donors(down, receptor=True).tolist() == [False, False, False, False, False, True, False]
    assert np.array_equal(effective_donors(down), down.donor)  # the ligand side keeps its typing
