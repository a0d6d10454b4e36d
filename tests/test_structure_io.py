"""Structure reading: the NumPy PDB path and the gemmi CIF path agree with gemmi's own reader,
and bad input gives one-line errors that name the file."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from pocketvox.errors import InputFileError, LigandError
from pocketvox.structure import io, ligand

gemmi = pytest.importorskip("gemmi")


def _gemmi_heavy_atoms(path, model=0):
    st = gemmi.read_structure(str(path))
    st.remove_alternative_conformations()
    st.remove_hydrogens()
    st.remove_waters()
    rows = []
    for ch in st[model]:
        for r in ch:
            for a in r:
                rows.append((ch.name, r.seqid.num, r.name, a.name, round(a.pos.x, 3), round(a.pos.y, 3),
                             round(a.pos.z, 3)))
    return rows


def _our_atoms(path, model=None):
    s = io._clean(io.parse_structure(path), model, path)
    return [(c, int(n), r, a, round(x, 3), round(y, 3), round(z, 3))
            for c, n, r, a, (x, y, z) in zip(s.chain, s.res_num, s.res_name, s.name, s.coords)]


@pytest.mark.parametrize("entry", ["1eve", "3pxf", "1hpx", "4dst_protonated", "2ndo"])
def test_pdb_parser_matches_gemmi(plip_dir, entry):
    path = plip_dir / "pdb" / f"{entry}.pdb"
    ours = _our_atoms(path)
    ref = _gemmi_heavy_atoms(path)
    # gemmi keeps the first altloc, we keep the highest-occupancy one: compare atom identities,
    # and coordinates wherever the file has no alternate location
    assert len(ours) == len(ref)
    assert [o[:4] for o in ours] == [r[:4] for r in ref]
    same = sum(o == r for o, r in zip(ours, ref))
    assert same / len(ref) > 0.98


def test_mmcif_and_gzip_paths_agree_with_pdb(plip_dir, tmp_path):
    src = plip_dir / "pdb" / "1eve.pdb"
    st = gemmi.read_structure(str(src))
    cif = tmp_path / "1eve.cif"
    st.make_mmcif_document().write_file(str(cif))
    gz = tmp_path / "1eve.pdb.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    a = _our_atoms(src)
    assert _our_atoms(gz) == a
    b = _our_atoms(cif)
    assert [x[:4] for x in b] == [x[:4] for x in a]
    assert np.allclose(np.array([x[4:] for x in b]), np.array([x[4:] for x in a]), atol=1e-3)


def test_first_model_by_default_and_model_choice(plip_dir):
    path = plip_dir / "pdb" / "2ndo.pdb"
    one = io._clean(io.parse_structure(path), None, path)
    two = io._clean(io.parse_structure(path), 2, path)
    assert len(one) == len(two)
    assert not np.allclose(one.coords, two.coords)
    with pytest.raises(InputFileError, match="model 99 not present"):
        io._clean(io.parse_structure(path), 99, path)


def test_altloc_keeps_highest_occupancy(tmp_path):
    pdb = tmp_path / "alt.pdb"
    pdb.write_text(
        "ATOM      1  N   SER A   1       0.000   0.000   0.000  1.00 10.00           N\n"
        "ATOM      2  CA ASER A   1       1.450   0.000   0.000  0.30 10.00           C\n"
        "ATOM      3  CA BSER A   1       1.460   0.100   0.000  0.70 10.00           C\n"
        "ATOM      4  OG ASER A   1       2.000   1.300   0.000  0.30 10.00           O\n"
        "ATOM      5  OG BSER A   1       2.000  -1.300   0.000  0.70 10.00           O\n"
        "END\n"
    )
    s = io._clean(io.parse_structure(pdb), None, pdb)
    assert list(s.name) == ["N", "CA", "OG"]
    assert s.coords[2, 1] == pytest.approx(-1.3)


def test_ligand_autodetect_skips_additives(plip_dir):
    ps = io.read_structure(plip_dir / "pdb" / "1eve.pdb")
    cand, _ = io.select_ligand(ps)
    assert cand.id == "E20:A:2001"


def test_hetatm_ligand_bond_orders_from_geometry(plip_dir):
    """Donepezil (E20 in 1EVE): the N-benzyl phenyl must come out aromatic and the piperidine N
    as an amine, from heavy atoms only."""
    from rdkit import Chem

    ps = io.read_structure(plip_dir / "pdb" / "1eve.pdb")
    cand, _ = io.select_ligand(ps, "E20:A:2001")
    mol, notes = ligand.ligand_from_residue(ps, cand)
    ring_info = mol.GetRingInfo()
    aromatic6 = [r for r in ring_info.AtomRings() if len(r) == 6
                 and all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in r)]
    assert len(aromatic6) >= 1
    assert mol.HasSubstructMatch(Chem.MolFromSmarts("[CH2]N1CCCCC1"))
    assert any("geometry" in n for n in notes)
    # the whole molecule, including the indanone's sp3 CH2 in a nearly flat ring (regression)
    donepezil = Chem.CanonSmiles("COc1cc2c(cc1OC)C(=O)C(CC1CCN(Cc3ccccc3)CC1)C2")
    assert Chem.CanonSmiles(Chem.MolToSmiles(mol)) == donepezil


def test_smiles_template_assigns_bond_orders(plip_dir):
    ps = io.read_structure(plip_dir / "pdb" / "3pxf.pdb")
    cand, _ = io.select_ligand(ps, "2AN:A:305")
    mol, notes = ligand.ligand_from_residue(ps, cand, smiles="OS(=O)(=O)c1cccc2cccc(Nc3ccccc3)c12")
    assert "bond orders from the SMILES template" in notes
    assert sum(a.GetIsAromatic() for a in mol.GetAtoms()) == 16


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "file is empty"),
        (b"\x00\x01\x02binary\xff" * 20, "binary"),
        (b"HELLO this is not a structure\n", "no ATOM/HETATM"),
        (b"ATOM      1  N   SER A   1       0.000   0.0\n", "truncated"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_bad_structure_files_give_one_line_errors(tmp_path, content, message):
    p = tmp_path / ("bad.pdb.gz" if content.startswith(b"\x1f\x8b") else "bad.pdb")
    p.write_bytes(content)
    with pytest.raises(InputFileError) as e:
        io.parse_structure(p)
    assert message in str(e.value)
    assert str(p) in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_file_and_missing_ligand(tmp_path, plip_dir):
    with pytest.raises(InputFileError, match="no such file"):
        io.read_bytes(tmp_path / "nope.pdb")
    ps = io.read_structure(plip_dir / "pdb" / "1eve.pdb")
    with pytest.raises(LigandError, match="XYZ:A:1 not found"):
        io.select_ligand(ps, "XYZ:A:1")
    with pytest.raises(LigandError, match="bad ligand id"):
        io.select_ligand(ps, "E20-A-2001")


def test_bad_ligand_files(tmp_path):
    bad = tmp_path / "bad.sdf"
    bad.write_text("not a molecule\n")
    with pytest.raises(LigandError, match="not an SDF"):
        ligand.read_ligand_file(bad)
    trunc = tmp_path / "trunc.sdf"
    trunc.write_text("x\n  RDKit          3D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n"
                     "    0.0000    0.0000    0.0000 C   0  0\nM  END\n")
    with pytest.raises(LigandError):
        ligand.read_ligand_file(trunc)
    pentavalent = tmp_path / "c5.sdf"
    lines = ["c5", "  RDKit          3D", "", "  6  5  0  0  0  0  0  0  0  0999 V2000"]
    lines += ["    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0"]
    for k in range(5):
        lines += [f"    {1.0 + k:.4f}    1.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0"]
    lines += [f"  1  {k + 2}  1  0" for k in range(5)] + ["M  END", "$$$$"]
    pentavalent.write_text("\n".join(lines) + "\n")
    with pytest.raises(LigandError, match="RDKit rejected"):
        ligand.read_ligand_file(pentavalent)


def test_posebusters_complex_with_sdf_ligand(posebusters_dir):
    d = posebusters_dir / "5SAK"
    c = io.load_complex(d / "5SAK_protein.pdb", ligand_file=d / "5SAK_ligand.sdf")
    assert len(c.ligand) > 5 and len(c.protein) > 500
    assert (c.ligand.element != "H").all() and (c.protein.element != "H").all()
    # ligand and protein share a frame: the ligand sits in a pocket (some protein atom within 4.5 Å)
    from scipy.spatial import cKDTree

    d_min, _ = cKDTree(c.protein.coords).query(c.ligand.coords)
    assert d_min.min() < 4.5
