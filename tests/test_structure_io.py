"""Structure reading: the NumPy PDB path and the gemmi CIF path agree with gemmi's own reader,
and bad input gives one-line errors that name the file."""

from __future__ import annotations

import gzip
from dataclasses import replace

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


# ------------------------------------------------------------------ compiled fast paths vs NumPy
_SITE_FIELDS = ("hetero", "serial", "res_num", "coords", "occupancy", "model", "conect", "name", "altloc",
                "res_name", "chain", "icode", "element")


def _assert_same_sites(a, b):
    for f in _SITE_FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype, f
        assert x.shape == y.shape and np.array_equal(x, y), f
    # -0.0 stays -0.0 (the NumPy parser's float conversion keeps the sign)
    assert np.array_equal(np.signbit(a.coords), np.signbit(b.coords))


@pytest.mark.parametrize("entry", ["1eve", "2ndo", "4dst_protonated", "1hpx"])
@pytest.mark.parametrize("model", [None, 1, 2])
def test_scanner_matches_numpy_parser(plip_dir, entry, model):
    path = plip_dir / "pdb" / f"{entry}.pdb"
    data = io.read_bytes(path)
    try:
        ref = io._parse_pdb_numpy(data, path, model)
    except InputFileError as e:  # model 2 of a single-model file: the same error either way
        with pytest.raises(InputFileError, match=str(e).split(": ", 1)[1]):
            io.parse_pdb(data, path, model)
        return
    _assert_same_sites(io.parse_pdb(data, path, model), ref)


_REC = "ATOM      1  N   SER A   1      11.104   6.134  -6.504  1.00  0.00           N  "


def _line(serial=1, name=" N  ", alt=" ", res="SER", chain="A", num="   1", icode=" ", x="  11.104",
          y="   6.134", z="  -6.504", occ="  1.00", element=" N", rec="ATOM  ", tail=True):
    s = f"{rec}{serial:>5} {name}{alt}{res:<4}{chain}{num}{icode}   {x}{y}{z}{occ}  0.00"
    return s + (f"          {element}  " if tail else "")


@pytest.mark.parametrize("lines", [
    [_line(), _line(2, " CA ", x="  -0.000", y="   0.5  ", z="1234.567")],  # -0.0, short fraction
    [_line(element="  ", tail=True), _line(2, "FE  ", res="HEM", rec="HETATM", element="  ")],  # no element
    [_line(tail=False), _line(2, " CA ", tail=False)],  # lines end after the B-factor
    [_line(element="Se"), _line(2, " CL ", element="cl")],  # lower-case elements
    [_line(x="   +1.50"), _line(2, x="  1.5e1 ")],  # other number layouts (NumPy path)
    [_line(num="   A"), _line(2, num="  1 ")],  # non-numeric residue numbers (NumPy path)
    [_line(res="ABCD"), _line(2, res="AB")],  # 4-character residue names
    [_line(alt="A", occ="  0.40"), _line(2, alt="B", occ="  0.60"), _line(3, alt="B", occ="      ")],
    [_line(name=" N\tA"), _line(2, name=" Cé ")],  # control and non-ASCII bytes (NumPy path)
    [_line(), "TER", _line(2, " CA "), "CONECT    1    2", "CONECT    2    1     "],
    [_line(serial=1), _line(serial=2), "CONECT    1    x"],  # odd CONECT field (NumPy path)
    [_line(serial=1).replace("    1", "  1 1", 1), "CONECT    1    2"],  # odd serial (NumPy path)
])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_scanner_matches_numpy_parser_on_edge_cases(tmp_path, lines, newline):
    data = (newline.join(lines) + newline).encode("latin-1")
    _assert_same_sites(io.parse_pdb(data, "x.pdb"), io._parse_pdb_numpy(data, "x.pdb"))
    no_final_newline = newline.join(lines).encode("latin-1")
    _assert_same_sites(io.parse_pdb(no_final_newline, "x.pdb"), io._parse_pdb_numpy(no_final_newline, "x.pdb"))


def test_multi_model_read_structure_picks_the_model(plip_dir):
    path = plip_dir / "pdb" / "2ndo.pdb"
    one, two = io.read_structure(path), io.read_structure(path, model=2)
    assert len(one.sites) == len(two.sites)
    assert not np.allclose(one.sites.coords, two.sites.coords)
    assert np.allclose(two.sites.coords, io._clean(io.parse_structure(path), 2, path).coords)


def test_altloc_ties_and_duplicate_sites(tmp_path):
    pdb = tmp_path / "tie.pdb"
    pdb.write_text("\n".join([
        _line(1, " N  "),
        _line(2, " CA ", alt="B", occ="  0.50", x="   1.000"),
        _line(3, " CA ", alt="A", occ="  0.50", x="   2.000"),
        _line(4, " CB "), _line(5, " CB ", x="   9.000"),  # the same site twice, no altloc
    ]) + "\n")
    s = io._clean(io.parse_structure(pdb), None, pdb)
    assert list(s.name) == ["N", "CA", "CB"]
    assert s.coords[1, 0] == 1.0 and s.coords[2, 0] == pytest.approx(11.104)  # first seen wins ties
    assert np.array_equal(s._rid, io._residue_index(s)[0])


def test_pairwise_sum_matches_numpy():
    from pocketvox.structure._pdbscan import _pairwise_sum

    rng = np.random.default_rng(0)
    for n in (1, 7, 8, 9, 127, 128, 129, 300, 1000):
        a = rng.random(n) * 1e3
        assert _pairwise_sum(a, n) == np.add.reduce(a)


def _bonds_reference(coords, element):
    """Every pair tested directly, as the KD-tree version did."""
    radii = np.array([io.COVALENT_RADII.get(e, 0.0) for e in element])
    i, j = np.triu_indices(len(coords), 1)
    d = np.linalg.norm(coords[i] - coords[j], axis=1)
    ok = (radii[i] > 0) & (radii[j] > 0) & (d <= radii[i] + radii[j] + io.BOND_TOLERANCE) & (d > io.MIN_BOND)
    return np.stack([i, j], 1)[ok].astype(np.int32)


def test_perceive_bonds_matches_all_pairs():
    rng = np.random.default_rng(1)
    elements = np.array(["C", "N", "O", "S", "I", "ZN", "SE", "H"])
    for scale, n in [(3.0, 60), (3.0, 300), (15.0, 200), (1000.0, 50), (40.0, 2)]:
        # (3 Å, 300 atoms): far more pairs than the first guess of room for them
        coords = rng.random((n, 3)) * scale
        element = elements[rng.integers(0, len(elements), n)]
        assert np.array_equal(io.perceive_bonds(coords, element), _bonds_reference(coords, element))


def test_receptor_bonds_match_restricted_perception(plip_dir):
    ps = io.read_structure(plip_dir / "pdb" / "1eve.pdb")
    everything = np.ones(len(ps.sites), bool)  # hetero groups too: links into them are kept
    for m in (ps.receptor_mask, everything):
        rows = np.flatnonzero(m)
        sub, rid = ps.sites.take(rows), ps.rid[rows]
        ref = io._restrict_cross_residue_bonds(io.perceive_bonds(sub.coords, sub.element), sub, rid)
        assert np.array_equal(io._receptor_bonds(sub, rid), ref)
    # overlapping atoms: more bonds than the first guess of room for them
    rows = np.flatnonzero(ps.receptor_mask)[:40]
    sub = ps.sites.take(rows)
    sub.coords = np.random.default_rng(2).random((40, 3)) * 2.0
    rid = np.zeros(40, np.int64)
    ref = io._restrict_cross_residue_bonds(io.perceive_bonds(sub.coords, sub.element), sub, rid)
    assert len(ref) > 4 * 40 + 16
    assert np.array_equal(io._receptor_bonds(sub, rid), ref)


def _type_protein_reference(t):
    """type_protein's rules, atom by atom (slow, obvious)."""
    from pocketvox.structure import typing as ty

    el = [e.upper() for e in t.element.tolist()]
    hdeg = np.zeros(len(t), int)
    nonc = np.zeros(len(t), bool)
    for i, j in t.bonds.tolist():
        for a, b in ((i, j), (j, i)):
            hdeg[a] += t.element[b] != "H"
            nonc[a] |= t.element[b] not in ("C", "H")
    donor, acceptor = [], []
    for k, (res, name, e) in enumerate(zip(t.res_name.tolist(), t.name.tolist(), el)):
        d = (e == "O" and hdeg[k] <= 1) or (e == "N" and hdeg[k] <= 2)
        a = e == "O" or (e == "N" and hdeg[k] <= 2)
        if name in ty.PROTEIN_POLAR.get(res, {}):
            d, a = ty.PROTEIN_POLAR[res][name]
        elif res in ty.STANDARD_AA:
            bb_n = name == "N"
            d = (bb_n and (res != "PRO" or hdeg[k] <= 1)) or (e == "O" and name == "OXT")
            a = e == "O" or (bb_n and hdeg[k] <= 1)
        metal = e in ty.METAL_ELEMENTS
        donor.append(d and not metal)
        acceptor.append(a and not metal)
    rid = ty.residue_index(t)
    rings = []
    for r in np.unique(rid):
        rows = np.flatnonzero(rid == r)
        res = t.res_name[rows[0]]
        where = {n: int(i) for i, n in zip(rows, t.name[rows].tolist())}  # the last of a name
        for ring in ty.PROTEIN_RINGS.get(res, ()):
            if all(n in where for n in ring):
                rings.append([where[n] for n in ring])
    hydrophobic = np.array([e == "C" for e in el]) & ~nonc
    return np.array(donor), np.array(acceptor), hydrophobic, rings


def test_type_protein_matches_reference_rules(plip_dir):
    from pocketvox.structure.typing import type_protein

    ps = io.read_structure(plip_dir / "pdb" / "1eve.pdb")
    rows = np.flatnonzero(ps.receptor_mask)
    sub = ps.sites.take(rows)
    t = io._table_from_sites(sub, io._receptor_bonds(sub, ps.rid[rows]))
    typed = type_protein(t)
    donor, acceptor, hydrophobic, rings = _type_protein_reference(t)
    assert np.array_equal(typed.donor, donor) and np.array_equal(typed.acceptor, acceptor)
    assert np.array_equal(typed.hydrophobic, hydrophobic)
    assert [list(r[r >= 0]) for r in typed.rings] == rings
    # lower-case elements: upper-cased for typing; the bond graph reads them as given
    low = replace(t, element=np.where(np.arange(len(t)) % 3 == 0, np.char.lower(t.element), t.element))
    lower = type_protein(low)
    donor, acceptor, hydrophobic, rings = _type_protein_reference(low)
    assert np.array_equal(lower.donor, donor) and np.array_equal(lower.acceptor, acceptor)
    assert np.array_equal(lower.hydrophobic, hydrophobic)
    assert np.array_equal(lower.element, t.element)
    for f in ("aromatic", "metal", "charge", "rings", "groups"):
        assert np.array_equal(getattr(lower, f), getattr(typed, f)), f


def test_corrupted_pdb_files_fail_with_one_line_errors(tmp_path):
    """The compiled PDB scanner reads raw bytes without bounds checks of its own: flipped bytes,
    truncated or overlong lines, garbage in coordinate columns, dropped or repeated lines and a cut
    file must give a result or a PocketvoxError, never another exception (or a crash)."""
    import random
    from pathlib import Path

    from pocketvox.errors import PocketvoxError
    from pocketvox.interactions import profile
    from pocketvox.structure import load_complex

    example = Path(__file__).resolve().parents[1] / "data" / "examples" / "1eve.pdb.gz"
    lines = gzip.decompress(example.read_bytes()).split(b"\n")
    rng = random.Random(11)
    outcomes = {"ok": 0, "error": 0}
    for it in range(60):
        work = list(lines)
        kind = it % 6
        for _ in range(rng.randint(1, 20)):
            i = rng.randrange(len(work))
            s = bytearray(work[i])
            if kind == 0 and s:
                for _ in range(rng.randint(1, 4)):
                    s[rng.randrange(len(s))] = rng.randrange(256)
            elif kind == 1:
                s = s[: rng.randrange(len(s) + 1)]
            elif kind == 2:
                s += bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 60)))
            elif kind == 3 and len(s) > 54:
                s[rng.randrange(30, 54)] = rng.choice(b"-.0123456789 eE+x")
            elif kind == 4:
                work.insert(i, bytes(s))
            else:
                s = s.replace(b" ", b"\t", 1) + b"\r"
            work[i] = bytes(s)
        data = b"\n".join(work)
        if it % 10 == 9:
            data = data[: rng.randrange(len(data))]
        path = tmp_path / f"c{it}.pdb"
        path.write_bytes(data)
        try:
            profile(load_complex(path, site_radius=12.0))
            outcomes["ok"] += 1
        except PocketvoxError as e:
            assert "\n" not in str(e) and str(path) in str(e)
            outcomes["error"] += 1
    assert outcomes["ok"] > 0 and outcomes["error"] > 0, outcomes
