"""Atom typing with PLIP / Open Babel semantics (pocketvox.structure.typing)."""

from __future__ import annotations

import numpy as np
import pytest

from pocketvox.structure.atoms import AtomTable
from pocketvox.structure.ligand_typing import type_ligand
from pocketvox.structure.typing import type_protein


def _mol3d(smiles):
    from rdkit import Chem
    from rdkit.Chem import AllChem

    m = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(m, randomSeed=7) == 0
    return Chem.RemoveHs(m)


def _ligand(smiles):
    m = _mol3d(smiles)
    t = AtomTable.from_columns(coords=m.GetConformer().GetPositions(),
                               element=np.array([a.GetSymbol().upper() for a in m.GetAtoms()], "<U2"))
    return type_ligand(t, m), m


def _idx(m, symbol):
    return [a.GetIdx() for a in m.GetAtoms() if a.GetSymbol() == symbol]


def test_ligand_donors_acceptors_open_babel_rules():
    t, m = _ligand("CC(=O)NCc1ccncc1O")  # amide N-H, pyridine N, phenol O
    n_amide, n_pyr = _idx(m, "N")
    assert t.donor[n_amide] and not t.acceptor[n_amide]  # sp2 N with three connections: not an acceptor
    assert t.acceptor[n_pyr] and not t.donor[n_pyr]
    assert all(t.acceptor[i] for i in _idx(m, "O"))
    phenol = [i for i in _idx(m, "O") if m.GetAtomWithIdx(i).GetTotalNumHs() == 1][0]
    assert t.donor[phenol]


def test_ligand_charged_groups_like_plip():
    t, _ = _ligand("CN(C)CCC(=O)O")  # tertiary amine (positive) + carboxylic acid (negative)
    assert sorted(t.group_kind.tolist()) == ["carboxylate", "tertiary_amine"]
    assert set(t.group_sign.tolist()) == {-1, 1}
    t, _ = _ligand("NCCCC")  # PLIP does not count primary amines as charged
    assert len(t.groups) == 0
    t, _ = _ligand("CC(=O)OC")  # PLIP's carboxylate rule also matches esters (C bonded to O, O, C)
    assert t.group_kind.tolist() == ["carboxylate"]
    t, _ = _ligand("OP(=O)(O)OCC")
    assert t.group_kind.tolist() == ["phosphate"]
    t, _ = _ligand("NC(=N)NCC")
    assert t.group_kind.tolist() == ["guanidine"]


def test_ligand_rings_hydrophobic_halogen():
    t, m = _ligand("Clc1ccc(cc1)C1CCCCC1")
    assert len(t.rings) == 1  # chair cyclohexane is neither aromatic nor planar
    assert set(t.rings[0][t.rings[0] >= 0].tolist()) == {a.GetIdx() for a in m.GetAtoms() if a.GetIsAromatic()}
    cl = _idx(m, "Cl")[0]
    assert t.halogen[cl]
    c_cl = m.GetAtomWithIdx(cl).GetNeighbors()[0].GetIdx()
    assert not t.hydrophobic[c_cl] and t.hydrophobic.sum() == m.GetNumAtoms() - 2


def test_type_ligand_rejects_mismatched_table():
    _, m = _ligand("CCO")
    with pytest.raises(ValueError):
        type_ligand(AtomTable.from_columns(coords=np.zeros((2, 3))), m)


def test_matching_replays_networkx():
    """The numba matching gives NetworkX's own matching (same edges, not just the same size)."""
    import networkx as nx

    from pocketvox.structure import _ligand_kernels as K
    from pocketvox.structure.ligand import _max_matching

    rng = np.random.default_rng(3)
    blossoms = 0
    for _ in range(300):
        n = int(rng.integers(2, 24))
        pairs = {tuple(sorted(p)) for p in rng.integers(0, n, size=(int(rng.integers(1, 2 * n)), 2)).tolist()
                 if p[0] != p[1]}
        edges = np.array(sorted(pairs, key=lambda _: rng.random()), np.int64).reshape(-1, 2)
        if not len(edges):
            continue
        g = nx.Graph()
        g.add_edges_from(edges.tolist())
        want = {frozenset(e) for e in nx.max_weight_matching(g, maxcardinality=True)}
        ok, mate = K.greedy_blossom_free_matching(n, edges)
        blossoms += not ok
        got = {frozenset((i, int(j))) for i, j in enumerate(_max_matching(n, edges).tolist()) if j >= 0}
        assert got == want
        if ok:
            assert {frozenset((i, int(j))) for i, j in enumerate(mate.tolist()) if j >= 0} == want
    assert 0 < blossoms < 300  # both the replay and the NetworkX fallback were exercised


def test_conect_bonds_lookup_matches_isin():
    from pocketvox.structure.ligand import _conect_bonds

    def reference(conect, ser):
        inside = np.isin(conect, ser).all(1) & (conect[:, 0] != conect[:, 1])
        if not inside.any():
            return None
        order = np.argsort(ser)
        pos = order[np.searchsorted(ser, conect[inside], sorter=order)]
        return np.unique(np.sort(pos, axis=1), axis=0).astype(np.int32)

    rng = np.random.default_rng(5)
    for trial in range(200):
        n = int(rng.integers(1, 40))
        ser = rng.choice(np.arange(1, 400), n, replace=trial % 7 == 0).astype(np.int32)
        conect = rng.integers(0, 420, size=(int(rng.integers(1, 80)), 2)).astype(np.int32)
        k = min(n // 2, len(conect))
        conect[:k, 0] = ser[:k]
        conect[:k, 1] = ser[rng.integers(0, n, k)]
        got, want = _conect_bonds(conect, ser), reference(conect, ser)
        assert (got is None) == (want is None)
        if got is not None:
            assert got.dtype == np.int32 and np.array_equal(got, want)


def test_ligand_table_matches_rdkit_atoms():
    from rdkit import Chem

    from pocketvox.structure.ligand import ligand_table

    m = _mol3d("OC(=O)c1ccc(cc1)S(=O)(=O)N1CC[NH+](C)CC1")
    t = ligand_table(m, res_name="ABC", chain="B", res_num=7)
    assert t.element.tolist() == [a.GetSymbol().upper() for a in m.GetAtoms()]
    assert t.name.tolist() == [f"{a.GetSymbol()}{a.GetIdx() + 1}" for a in m.GetAtoms()]
    assert t.bond_order.tolist() == [b.GetBondTypeAsDouble() for b in m.GetBonds()]
    assert t.bonds.tolist() == [sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx())) for b in m.GetBonds()]
    assert np.array_equal(t.coords, m.GetConformer().GetPositions())
    assert set(t.res_name.tolist()) == {"ABC"} and set(t.chain.tolist()) == {"B"} and set(t.res_num.tolist()) == {7}
    # PLIP counts the sulfonamide N (three heavy neighbours, sp3 by Open Babel's rule) as an amine too
    assert sorted(t.group_kind.tolist()) == ["carboxylate", "tertiary_amine", "tertiary_amine"]
    assert t.aromatic.sum() == 6 and len(t.rings) == 1
    assert Chem.MolToSmiles(m)  # the molecule is left usable


def test_bond_orders_from_geometry():
    """Heavy-atom skeletons with single bonds get back the molecule they came from."""
    from rdkit import Chem

    from pocketvox.structure.ligand import _build_mol, _perceive_bond_orders

    for smi in ("CC(=O)Nc1ccc(O)cc1", "N#Cc1ccccc1C#C", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CS(=O)(=O)NCc1ccccc1",
                "OC(=O)CCc1ccncc1", "c1ccc2ccccc2c1"):
        m = _mol3d(smi)
        z = np.array([a.GetAtomicNum() for a in m.GetAtoms()], np.int64)
        bonds = np.array([(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in m.GetBonds()], np.int64)
        skel = _build_mol(z, bonds, m.GetConformer().GetPositions())
        notes = []
        out = _perceive_bond_orders(skel, None, "x", notes,
                                    graph=(z, bonds, np.ones(len(bonds), np.int64), np.zeros(len(z), np.int64)))
        Chem.SanitizeMol(out)
        assert notes == ["bond orders perceived from geometry"]
        assert Chem.MolToSmiles(out) == Chem.MolToSmiles(Chem.MolFromSmiles(smi)), smi


def _residues():
    """Lys-Trp-Arg-His-Asp as named heavy atoms with intra-residue bonds only (coords irrelevant)."""
    spec = {
        "LYS": ["N", "CA", "C", "O", "CB", "CG", "CD", "CE", "NZ"],
        "TRP": ["N", "CA", "C", "O", "CB", "CG", "CD1", "CD2", "NE1", "CE2", "CE3", "CZ2", "CZ3", "CH2"],
        "ARG": ["N", "CA", "C", "O", "CB", "CG", "CD", "NE", "CZ", "NH1", "NH2"],
        "HIS": ["N", "CA", "C", "O", "CB", "CG", "ND1", "CD2", "CE1", "NE2"],
        "ASP": ["N", "CA", "C", "O", "CB", "CG", "OD1", "OD2"],
    }
    bonds_by_res = {
        "LYS": [("N", "CA"), ("CA", "C"), ("C", "O"), ("CA", "CB"), ("CB", "CG"), ("CG", "CD"), ("CD", "CE"),
                ("CE", "NZ")],
        "TRP": [("N", "CA"), ("CA", "C"), ("C", "O"), ("CA", "CB"), ("CB", "CG"), ("CG", "CD1"), ("CG", "CD2"),
                ("CD1", "NE1"), ("NE1", "CE2"), ("CD2", "CE2"), ("CD2", "CE3"), ("CE2", "CZ2"), ("CE3", "CZ3"),
                ("CZ2", "CH2"), ("CZ3", "CH2")],
        "ARG": [("N", "CA"), ("CA", "C"), ("C", "O"), ("CA", "CB"), ("CB", "CG"), ("CG", "CD"), ("CD", "NE"),
                ("NE", "CZ"), ("CZ", "NH1"), ("CZ", "NH2")],
        "HIS": [("N", "CA"), ("CA", "C"), ("C", "O"), ("CA", "CB"), ("CB", "CG"), ("CG", "ND1"), ("CG", "CD2"),
                ("ND1", "CE1"), ("CD2", "NE2"), ("CE1", "NE2")],
        "ASP": [("N", "CA"), ("CA", "C"), ("C", "O"), ("CA", "CB"), ("CB", "CG"), ("CG", "OD1"), ("CG", "OD2")],
    }
    names, res, num, bonds, prev_c = [], [], [], [], None
    for k, (r, atoms) in enumerate(spec.items()):
        base = len(names)
        idx = {a: base + i for i, a in enumerate(atoms)}
        names += atoms
        res += [r] * len(atoms)
        num += [k + 1] * len(atoms)
        bonds += [(idx[a], idx[b]) for a, b in bonds_by_res[r]]
        if prev_c is not None:
            bonds.append((prev_c, idx["N"]))  # peptide bond
        prev_c = idx["C"]
    n = len(names)
    t = AtomTable.from_columns(coords=np.random.default_rng(0).normal(size=(n, 3)) * 10,
                               element=np.array([x[0] for x in names], "<U2"), name=np.array(names, "<U4"),
                               res_name=np.array(res, "<U5"), res_num=np.array(num, np.int32),
                               bonds=np.sort(np.array(bonds, np.int32), axis=1),
                               bond_order=np.ones(len(bonds), np.float32))
    return type_protein(t)


def test_protein_polar_table():
    t = _residues()

    def atom(res, name):
        return int(np.flatnonzero((t.res_name == res) & (t.name == name))[0])

    assert t.donor[atom("LYS", "NZ")] and t.acceptor[atom("LYS", "NZ")]
    # Open Babel leaves Trp NE1 and Arg NE unprotonated: acceptors, not donors (PLIP semantics).
    assert t.acceptor[atom("TRP", "NE1")] and not t.donor[atom("TRP", "NE1")]
    assert t.acceptor[atom("ARG", "NE")] and not t.donor[atom("ARG", "NE")]
    assert t.donor[atom("ARG", "NH1")] and not t.acceptor[atom("ARG", "NH1")]
    assert t.donor[atom("TRP", "N")] and not t.acceptor[atom("TRP", "N")]  # backbone N-H
    assert t.donor[atom("LYS", "N")] and t.acceptor[atom("LYS", "N")]  # N-terminal amine
    assert t.acceptor[atom("ASP", "OD1")] and not t.donor[atom("ASP", "OD1")]


def test_protein_hydrophobic_rings_groups():
    t = _residues()
    hyd = set(zip(t.res_name[t.hydrophobic].tolist(), t.name[t.hydrophobic].tolist()))
    assert {("LYS", "CB"), ("LYS", "CD"), ("TRP", "CZ2"), ("TRP", "CD2")} <= hyd
    assert not {("LYS", "CE"), ("TRP", "CE2"), ("ARG", "CD"), ("ASP", "CG")} & hyd
    ring_res = sorted(t.res_name[t.rings[:, 0]].tolist())
    assert ring_res == ["HIS", "TRP", "TRP"]
    g = {str(k): int(s) for k, s in zip(t.group_kind, t.group_sign)}
    assert g == {"ammonium": 1, "guanidinium": 1, "imidazolium": 1, "carboxylate": -1}
    arg = int(np.flatnonzero(t.group_kind == "guanidinium")[0])
    assert sorted(t.name[t.groups[arg][t.groups[arg] >= 0]].tolist()) == ["NE", "NH1", "NH2"]
