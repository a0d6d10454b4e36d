"""Batch screening: typing, map sampling, scoring, grouping, errors, -j, resume (also after kill -9)."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pocketvox.apps.screen import read_results, run_screen
from pocketvox.apps.screen_read import (
    ACCEPTOR,
    DONOR,
    HALOGEN,
    HYDROPHOBIC,
    NEGATIVE,
    POSITIVE,
    RING,
    iter_chunks,
    type_chunk,
)
from pocketvox.apps.screen_score import PocketMaps, ScoreParams, score_batch, trilinear

CLASSES = ("hbond", "hydrophobic", "pistacking", "saltbridge", "halogen", "pication")
CENTER = np.array([10.0, 20.0, 30.0])


# ------------------------------------------------------------------------------------ helpers
def _mol(smiles: str, seed: int = 7):
    from rdkit import Chem
    from rdkit.Chem import AllChem

    m = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(m, randomSeed=seed) == 0
    return m


def _write_sdf(path: Path, entries, gz: bool = False):
    """entries: (name, mol, shift (3,), tags) -> SDF; the mol's coordinates are centred on CENTER+shift."""
    from rdkit import Chem

    parts = []
    for name, mol, shift, tags in entries:
        m = Chem.Mol(mol)
        conf = m.GetConformer()
        pos = conf.GetPositions()
        pos = pos - pos.mean(0) + CENTER + np.asarray(shift, float)
        for i, p in enumerate(pos):
            conf.SetAtomPosition(i, p.tolist())
        m.SetProp("_Name", name)
        for k, v in tags.items():
            m.SetProp(k, str(v))
        sd = "".join(f">  <{k}>\n{v}\n\n" for k, v in tags.items())
        parts.append(Chem.MolToMolBlock(m) + sd + "$$$$\n")
    data = "".join(parts).encode()
    if gz:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def _maps(seed: int = 0, n: int = 20, res: float = 1.0, receptor=None) -> PocketMaps:
    rng = np.random.default_rng(seed)
    probs = rng.random((len(CLASSES), n, n, n)).astype(np.float32)
    origin = CENTER - 0.5 * (n - 1) * res
    rec = np.array([[10.0, 20.0, 45.0], [10.0, 20.0, 15.0]]) if receptor is None else receptor
    return PocketMaps(probs, origin, res, CLASSES, rec, np.full(len(rec), 1.7))


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A library with multi-pose molecules, a broken record, an out-of-pocket pose and tags."""
    d = tmp_path_factory.mktemp("lib")
    phenol, amine = _mol("c1ccccc1O"), _mol("CC[NH3+]")
    acid, chloro = _mol("OC(=O)c1ccccc1"), _mol("Clc1ccccc1C")
    rng = np.random.default_rng(3)
    entries = []
    for k in range(4):
        entries.append(("phenol", phenol, rng.normal(0, 1.5, 3), {"id": "P", "pose": k}))
    entries.append(("amine", amine, (1, 0, 0), {"id": "A", "pose": 0}))
    entries.append(("far", acid, (40, 0, 0), {"id": "F", "pose": 0}))
    for k in range(3):
        entries.append(("acid", acid, rng.normal(0, 1.5, 3), {"id": "C", "pose": k}))
    entries.append(("chloro", chloro, (0, 1, 0), {"id": "X", "pose": 0}))
    p = _write_sdf(d / "lib.sdf", entries)
    # a broken record in the middle: a truncated atom block
    text = p.read_text()
    recs = text.split("$$$$\n")
    recs.insert(5, "broken\n  junk\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n    1.0 garbage\n")
    # poses of 'phenol' again at the end, after other molecules (grouping is by name, not adjacency)
    recs.insert(len(recs) - 1, recs[0])
    p.write_text("$$$$\n".join(recs))
    return p


# ------------------------------------------------------------------------------------ units
def test_trilinear_is_exact_for_linear_fields_and_zero_outside():
    n, res = 9, 0.5
    origin = np.array([1.0, -2.0, 3.0])
    ax = origin[:, None] + res * np.arange(n)[None, :]
    X, Y, Z = np.meshgrid(ax[0], ax[1], ax[2], indexing="ij")
    field = np.stack([2 * X - Y + 0.5 * Z, X * 0 + 1.0]).astype(np.float32)
    rng = np.random.default_rng(1)
    pts = origin + rng.random((200, 3)) * res * (n - 1)
    cls = rng.integers(0, 2, 200)
    got = trilinear(field, origin, res, cls, pts)
    want = np.where(cls == 0, 2 * pts[:, 0] - pts[:, 1] + 0.5 * pts[:, 2], 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    far = trilinear(field, origin, res, np.zeros(2, int), np.array([origin - 5, origin + 50]))
    np.testing.assert_array_equal(far, 0.0)


def test_typing_features(tmp_path):
    from pocketvox.apps.screen_read import Chunk

    entries = [("phenol", _mol("c1ccccc1O"), (0, 0, 0), {}), ("ion", _mol("CC[NH3+]"), (0, 0, 0), {}),
               ("acetate", _mol("CC(=O)[O-]"), (0, 0, 0), {}), ("clb", _mol("Clc1ccccc1"), (0, 0, 0), {}),
               ("amide", _mol("CC(=O)NC"), (0, 0, 0), {})]
    p = _write_sdf(tmp_path / "t.sdf", entries)
    chunk = next(iter_chunks([p], 100))
    assert isinstance(chunk, Chunk) and chunk.n == 5
    b = type_chunk(chunk)
    assert b.ok.all() and b.name == ["phenol", "ion", "acetate", "clb", "amide"]

    def bits(pose):
        return b.pt_bits[b.pt_pose == pose]

    # phenol: one O (donor + acceptor), 6 hydrophobic-free ring carbons? ring C next to O is not
    # hydrophobic (bound to O); the other 5 are; one ring centroid
    ph = bits(0)
    assert int(((ph & DONOR) != 0).sum()) == 1 and int(((ph & ACCEPTOR) != 0).sum()) == 1
    assert int(((ph & HYDROPHOBIC) != 0).sum()) == 5 and int((ph == RING).sum()) == 1
    ring_pt = b.pt_xyz[(b.pt_pose == 0) & (b.pt_bits == RING)][0]
    assert np.linalg.norm(ring_pt - b.hv_xyz[b.hv_pose == 0][:6].mean(0)) < 1e-6
    # ethylammonium: N+ is donor and positive, not acceptor
    ion = bits(1)
    assert int(((ion & POSITIVE) != 0).sum()) == 1 and not ((ion & ACCEPTOR) != 0).any()
    assert int(((ion & DONOR) != 0).sum()) == 1
    # acetate: one negative O, two acceptors
    ac = bits(2)
    assert int(((ac & NEGATIVE) != 0).sum()) == 1 and int(((ac & ACCEPTOR) != 0).sum()) == 2
    # chlorobenzene: one halogen, one ring
    assert int(((bits(3) & HALOGEN) != 0).sum()) == 1 and int((bits(3) == RING).sum()) == 1
    # N-methylacetamide: the amide N donates but does not accept
    am = bits(4)
    assert int(((am & DONOR) != 0).sum()) == 1 and int(((am & ACCEPTOR) != 0).sum()) == 1
    # heavy atoms only in the clash set
    assert list(b.n_heavy) == [7, 3, 4, 7, 5]


def test_repeated_poses_reuse_typing_exactly(tmp_path):
    """Poses of one molecule take the fast path (coordinates only); results equal full parsing."""
    m = _mol("OC(=O)c1ccc(Cl)cc1[NH3+]")
    shifts = [(0, 0, 0), (1, 0, 0), (0, 2, 0)]
    same = _write_sdf(tmp_path / "same.sdf", [("mol", m, s, {}) for s in shifts])
    diff = _write_sdf(tmp_path / "diff.sdf", [(f"mol{k}", m, s, {}) for k, s in enumerate(shifts)])
    a = type_chunk(next(iter_chunks([same], 10)))
    b = type_chunk(next(iter_chunks([diff], 10)))
    for f in ("pt_xyz", "pt_bits", "pt_pose", "hv_xyz", "hv_rad", "hv_pose", "n_heavy"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), atol=1e-4, err_msg=f)


def test_score_rewards_matching_features_and_penalises_clashes():
    from pocketvox.apps.screen_read import PoseBatch

    n = 11
    probs = np.zeros((len(CLASSES), n, n, n), np.float32)
    probs[0, 5, 5, 5] = 1.0  # an hbond hotspot at the box centre
    origin = CENTER - 5.0
    clash_atom = CENTER + np.array([3.0, 0, 0])
    maps = PocketMaps(probs, origin, 1.0, CLASSES, clash_atom[None], np.array([1.7]))
    # pose 0: donor on the hotspot; pose 1: hydrophobic atom on the hotspot; pose 2: donor on the
    # hotspot plus a carbon 1 Å from the receptor atom
    pt = np.array([CENTER, CENTER, CENTER])
    batch = PoseBatch(
        index=np.arange(3), name=["a", "b", "c"], ok=np.ones(3, bool), errors={},
        pt_xyz=pt, pt_bits=np.array([DONOR, HYDROPHOBIC, DONOR], np.uint8),
        pt_pose=np.arange(3, dtype=np.int32),
        hv_xyz=np.array([CENTER, CENTER, CENTER, clash_atom + [1.0, 0, 0]]),
        hv_rad=np.full(4, 1.7, np.float32),
        hv_pose=np.array([0, 1, 2, 2], np.int32), n_heavy=np.array([1, 1, 2], np.int32))
    sc = score_batch(batch, maps, ScoreParams(size_exponent=0.0))  # the plain additive score
    assert sc.ok.all()
    np.testing.assert_allclose(sc.terms[:, 0], [1.0, 0.0, 1.0])
    assert sc.score[0] == pytest.approx(1.0) and sc.score[1] == pytest.approx(0.0)
    # overlap = 0.75 * 3.4 - 1.0 = 1.55 Å
    assert sc.clash[2] == pytest.approx(0.75 * 3.4 - 1.0)
    assert sc.score[2] == pytest.approx(1.0 - 2.0 * (0.75 * 3.4 - 1.0))
    # the default divides by sqrt(heavy atoms); a = 1 is per heavy atom
    for a in (0.5, 1.0):
        sn = score_batch(batch, maps, ScoreParams(size_exponent=a))
        np.testing.assert_allclose(sn.score, sc.score / batch.n_heavy ** a)
    assert ScoreParams().size_exponent == 0.5
    # a pose outside the box is an error, not a score
    far = PoseBatch(index=np.arange(1), name=["z"], ok=np.ones(1, bool), errors={},
                    pt_xyz=np.zeros((0, 3)), pt_bits=np.zeros(0, np.uint8), pt_pose=np.zeros(0, np.int32),
                    hv_xyz=(CENTER + 30)[None], hv_rad=np.full(1, 1.7, np.float32),
                    hv_pose=np.zeros(1, np.int32), n_heavy=np.ones(1, np.int32))
    sf = score_batch(far, maps)
    assert not sf.ok[0] and "outside the pocket" in sf.errors[0] and np.isnan(sf.score[0])


# ------------------------------------------------------------------------------------ the job
def _brute_force(library, maps):
    """Score every record alone (batch of one) and group by name the slow, obvious way."""
    best = {}
    for ch in iter_chunks([library], 1):
        b = type_chunk(ch)
        sc = score_batch(b, maps)
        name = b.name[0]
        cnt = best.get(name, (None, None, 0))[2] + 1
        if sc.ok[0]:
            cur = best.get(name)
            if cur is None or cur[0] is None or sc.score[0] > cur[0]:
                best[name] = (float(sc.score[0]), cnt, cnt)
                continue
        prev = best.get(name, (None, None, 0))
        best[name] = (prev[0], prev[1], cnt)
    return {k: v for k, v in best.items() if v[0] is not None}


def test_run_screen_groups_poses_and_reports_errors(library, tmp_path):
    maps = _maps()
    out = tmp_path / "hits.csv"
    s = run_screen(maps, [library], out, batch_size=3, progress=False, keep_tags=True)
    df = read_results(out)
    err = pd.read_csv(tmp_path / "hits.csv.errors.csv")
    want = _brute_force(library, maps)
    assert sorted(df.name) == sorted(want) == ["acid", "amine", "chloro", "phenol"]
    for _, r in df.iterrows():
        sc, pose, n = want[r["name"]]
        assert r["score"] == pytest.approx(sc, rel=1e-9)
        assert r["best_pose"] == pose and r["n_poses"] == n
    assert df.set_index("name").loc["phenol", "n_poses"] == 5  # 4 poses + 1 more at the end of the file
    assert list(df.score) == sorted(df.score, reverse=True)
    assert set(err.name) == {"broken", "far"}
    assert "outside the pocket" in err.set_index("name").loc["far", "reason"]
    assert s.records == 12 and s.molecules == 4 and s.n_errors == 2
    # tags of the best pose
    ph = df.set_index("name").loc["phenol"]
    assert ph["id"] == "P" and int(ph["pose"]) == (ph["best_pose"] - 1 if ph["best_pose"] <= 4 else 0)
    assert not (tmp_path / "hits.csv.screen").exists()


def test_resume_after_interruption_gives_identical_results(library, tmp_path):
    maps = _maps(seed=4)
    full = tmp_path / "full.csv"
    run_screen(maps, [library], full, batch_size=2, progress=False)
    part = tmp_path / "part.parquet"
    s1 = run_screen(maps, [library], part, batch_size=2, progress=False, max_chunks=3)
    assert s1.records == 6 and not part.exists()
    s2 = run_screen(None, [library], part, batch_size=2, progress=False, resume=True)
    assert s2.resumed_chunks == 3 and s2.records == 12 - 6
    pd.testing.assert_frame_equal(read_results(full), read_results(part))
    # a resume with another batch size is refused with one line
    from pocketvox.apps.screen import ScreenError

    run_screen(maps, [library], part, batch_size=2, progress=False, max_chunks=1)
    with pytest.raises(ScreenError, match="batch_size"):
        run_screen(None, [library], part, batch_size=5, progress=False, resume=True)


def test_jobs_give_identical_results(library, tmp_path):
    maps = _maps(seed=5)
    run_screen(maps, [library], tmp_path / "a.csv", batch_size=2, progress=False)
    run_screen(maps, [library], tmp_path / "b.csv", batch_size=2, jobs=2, progress=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv.errors.csv").read_bytes() == (tmp_path / "b.csv.errors.csv").read_bytes()


def test_ray_gives_identical_results(library, tmp_path):
    ray = pytest.importorskip("ray", reason="ray not installed (pip install 'pocketvox[ray]')")
    maps = _maps(seed=6)
    run_screen(maps, [library], tmp_path / "local.csv", batch_size=2, progress=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run_screen(maps, [library], tmp_path / "ray.csv", batch_size=2, progress=False, ray_address="local")
    finally:
        ray.shutdown()
    assert (tmp_path / "local.csv").read_bytes() == (tmp_path / "ray.csv").read_bytes()


def test_bad_library_files_fail_with_one_line(tmp_path):
    from pocketvox.errors import InputFileError

    maps = _maps()
    empty = tmp_path / "empty.sdf"
    empty.write_bytes(b"")
    binary = tmp_path / "bin.sdf"
    binary.write_bytes(bytes(range(256)) * 4)
    for p, msg in ((tmp_path / "missing.sdf", "not found"), (empty, "empty"), (binary, "binary")):
        with pytest.raises(InputFileError, match=msg) as e:
            run_screen(maps, [p], tmp_path / "o.csv", progress=False)
        assert "\n" not in str(e.value) and str(p) in str(e.value)


def test_truncated_gzip_keeps_earlier_records(library, tmp_path):
    data = gzip.compress(library.read_bytes() * 40)
    p = tmp_path / "trunc.sdf.gz"
    p.write_bytes(data[: len(data) // 2])
    out = tmp_path / "t.csv"
    run_screen(_maps(), [p], out, batch_size=16, progress=False)
    err = pd.read_csv(tmp_path / "t.csv.errors.csv")
    assert err.reason.str.contains("stream broken").any()
    assert len(read_results(out)) == 4


# ------------------------------------------------------------------------------------ CLI
def _cli(args, **kw):
    return subprocess.run([sys.executable, "-m", "pocketvox.cli.main", "screen", *args],
                          capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def receptor_pdb(tmp_path_factory):
    """A two-residue receptor (Gly-Gly) near the pocket, written by hand."""
    p = tmp_path_factory.mktemp("rec") / "rec.pdb"
    atoms = [("N", "GLY", 1, (10.0, 20.0, 40.0), "N"), ("CA", "GLY", 1, (11.4, 20.0, 40.0), "C"),
             ("C", "GLY", 1, (12.0, 21.4, 40.0), "C"), ("O", "GLY", 1, (11.3, 22.4, 40.0), "O"),
             ("N", "GLY", 2, (13.3, 21.5, 40.0), "N"), ("CA", "GLY", 2, (14.0, 22.8, 40.0), "C"),
             ("C", "GLY", 2, (15.5, 22.6, 40.0), "C"), ("O", "GLY", 2, (16.0, 21.5, 40.0), "O")]
    lines = [f"ATOM  {i + 1:5d}  {n:<3s} {r} A{k:4d}    {x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00          {e:>2s}"
             for i, (n, r, k, (x, y, z), e) in enumerate(atoms)]
    p.write_text("\n".join(lines) + "\nEND\n")
    return p


def test_cli_screen_with_stored_maps(library, receptor_pdb, tmp_path):
    maps_file = tmp_path / "maps.npz"
    _maps(seed=8).save(maps_file)
    out = tmp_path / "cli.csv"
    r = _cli([str(receptor_pdb), str(library), "--center", "10,20,30", "--maps", str(maps_file),
              "-o", str(out), "--keep-tags", "-q", "--batch-size", "4"])
    assert r.returncode == 0, r.stderr
    df = read_results(out)
    assert len(df) == 4 and "id" in df.columns and "term_hbond" in df.columns
    assert "4 molecules ranked" in r.stderr
    # user errors: one line, non-zero exit, no traceback
    r = _cli([str(receptor_pdb), str(tmp_path / "nope.sdf"), "--center", "1,2,3", "--maps", str(maps_file),
              "-o", str(out)])
    assert r.returncode != 0 and "Traceback" not in r.stderr and "not found" in r.stderr
    r = _cli([str(receptor_pdb), str(library), "-o", str(out)])
    assert r.returncode != 0 and "exactly one of" in r.stderr


def test_kill9_then_resume_is_identical(tmp_path, receptor_pdb):
    """A run killed with SIGKILL mid-way and resumed equals an uninterrupted run."""
    m = _mol("OC(=O)c1ccc(Cl)cc1[NH3+]")
    rng = np.random.default_rng(11)
    entries = [(f"m{k // 3}", m, rng.normal(0, 1.0, 3), {}) for k in range(3000)]
    lib = _write_sdf(tmp_path / "big.sdf.gz", entries, gz=True)
    maps_file = tmp_path / "maps.npz"
    _maps(seed=9).save(maps_file)
    base = [str(receptor_pdb), str(lib), "--center", "10,20,30", "--maps", str(maps_file), "-q",
            "--batch-size", "50"]
    ref = tmp_path / "ref.csv"
    assert _cli([*base, "-o", str(ref)]).returncode == 0
    out = tmp_path / "killed.csv"
    journal = tmp_path / "killed.csv.screen" / "journal.log"
    proc = subprocess.Popen([sys.executable, "-m", "pocketvox.cli.main", "screen", *base, "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 60:
        if journal.exists() and journal.read_text().count("\n") >= 3:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "run finished before it could be killed; make the library larger"
    done = journal.read_text().count("\n")
    assert 3 <= done < 60
    r = _cli([*base, "-o", str(out), "--resume"])
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes()
    assert (tmp_path / "killed.csv.errors.csv").read_bytes() == (tmp_path / "ref.csv.errors.csv").read_bytes()


def test_class_names_map_to_ligand_features():
    from pocketvox.apps.screen_score import class_mask

    assert class_mask("hbond") == DONOR | ACCEPTOR
    assert class_mask("hbond_ligand_donor") == DONOR
    assert class_mask("pistacking_parallel") == RING
    assert class_mask("pication") == RING | POSITIVE
    assert class_mask("saltbridge_ligand_negative") == NEGATIVE
    assert class_mask("background") == 0


def test_geometric_maps_follow_receptor_partners():
    from pocketvox.apps.screen_maps import geometric_maps
    from pocketvox.structure.atoms import AtomTable

    # one carbonyl-like acceptor O and one hydrophobic C, 8 Å apart
    prot = AtomTable.from_columns(coords=np.array([CENTER, CENTER + [8.0, 0, 0]]),
                                  element=np.array(["O", "C"]), acceptor=np.array([True, False]),
                                  hydrophobic=np.array([False, True]))
    m = geometric_maps(prot, CENTER + [4.0, 0, 0], size=16.0, resolution=0.5)
    k_don, k_acc, k_hyd = (m.class_names.index(c) for c in ("hbond_ligand_donor", "hbond_ligand_acceptor",
                                                            "hydrophobic"))

    def at(k, p):
        return trilinear(m.probs, m.origin, m.resolution, np.array([k]), np.asarray(p, float)[None])[0]

    assert at(k_don, CENTER + [0, 3.0, 0]) > 0.3  # a ligand donor 3 Å from the acceptor
    assert at(k_don, CENTER) == 0.0  # inside the receptor atom
    assert at(k_don, CENTER + [0, 6.0, 0]) == 0.0  # too far
    assert at(k_acc, CENTER + [0, 3.0, 0]) == 0.0  # no receptor donor anywhere
    assert at(k_hyd, CENTER + [8.0, 3.7, 0]) > 0.3 and at(k_hyd, CENTER + [0, 3.7, 0]) == 0.0


def test_torch_sampling_matches_numpy():
    torch = pytest.importorskip("torch")
    from pocketvox.apps.screen_score import _trilinear_torch

    maps = _maps(seed=12)
    rng = np.random.default_rng(2)
    xyz = CENTER + rng.uniform(-12, 12, (500, 3))
    cls = rng.integers(0, len(CLASSES), 500)
    ref = trilinear(maps.probs, maps.origin, maps.resolution, cls, xyz)
    got = _trilinear_torch(maps, cls, xyz, "cpu")
    assert torch is not None and np.allclose(got, ref, atol=1e-9) and (ref > 0).any() and (ref == 0).any()


PHENOL_MOL2 = """@<TRIPOS>MOLECULE
phenol
 13 13 0 0 0
SMALL
GASTEIGER

@<TRIPOS>ATOM
      1 C1          1.2050    0.6960    0.0000 C.ar    1  UNL1        0.0000
      2 C2          0.0000    1.3920    0.0000 C.ar    1  UNL1        0.0000
      3 C3         -1.2050    0.6960    0.0000 C.ar    1  UNL1        0.0000
      4 C4         -1.2050   -0.6960    0.0000 C.ar    1  UNL1        0.0000
      5 C5          0.0000   -1.3920    0.0000 C.ar    1  UNL1        0.0000
      6 C6          1.2050   -0.6960    0.0000 C.ar    1  UNL1        0.0000
      7 O7          2.3940    1.3830    0.0000 O.3     1  UNL1        0.0000
      8 H8          3.1500    0.7800    0.0000 H       1  UNL1        0.0000
      9 H9          0.0000    2.4800    0.0000 H       1  UNL1        0.0000
     10 H10        -2.1500    1.2400    0.0000 H       1  UNL1        0.0000
     11 H11        -2.1500   -1.2400    0.0000 H       1  UNL1        0.0000
     12 H12         0.0000   -2.4800    0.0000 H       1  UNL1        0.0000
     13 H13         2.1500   -1.2400    0.0000 H       1  UNL1        0.0000
@<TRIPOS>BOND
     1     1     2   ar
     2     2     3   ar
     3     3     4   ar
     4     4     5   ar
     5     5     6   ar
     6     6     1   ar
     7     1     7    1
     8     7     8    1
     9     2     9    1
    10     3    10    1
    11     4    11    1
    12     5    12    1
    13     6    13    1
"""


def test_mol2_library(tmp_path):
    p = tmp_path / "two.mol2"
    p.write_text(PHENOL_MOL2 + PHENOL_MOL2.replace("phenol", "other"))
    chunks = list(iter_chunks([p], 10))
    assert [c.n for c in chunks] == [2]
    b = type_chunk(chunks[0])
    assert b.ok.all() and b.name == ["phenol", "other"] and list(b.n_heavy) == [7, 7]
    ph = b.pt_bits[b.pt_pose == 0]
    assert int(((ph & HYDROPHOBIC) != 0).sum()) == 5 and int((ph == RING).sum()) == 1
    assert int(((ph & DONOR) != 0).sum()) == 1


def test_array_typer_agrees_with_rdkit_smarts(shared_dir):
    """The chunk-level V2000 typer against the SMARTS of FEATURE_SMARTS and RDKit's aromatic rings."""
    from rdkit import Chem

    from pocketvox.apps import screen_read as sr

    path = shared_dir / "data" / "screening" / "dekois_ache" / "poses.sdf.gz"
    chunk = next(iter_chunks([path], 300))
    raw, _ = sr._split_records(chunk.data, "sdf")
    items, ref = [], []
    for i, r in enumerate(raw):
        text = r.decode()
        m = Chem.MolFromMolBlock(text, sanitize=False, removeHs=False)
        ref.append(sr._type_mol(Chem.Mol(m), None, None))
        lines = text.split("\n")
        na, _, atom_lines = sr._v2000_topology_key(lines)
        nb = int(lines[3][3:6])
        charges = sr._mchg(lines[4 + na + nb:], na)
        items.append(sr._Pending(i, text, atom_lines, lines[4 + na:4 + na + nb], charges, None))
    got = sr._type_v2000_batch(items)
    n_atoms = sum(len(t.atom_bits) for t in ref)
    for feat in ("donor", "acceptor", "hydrophobic", "positive", "negative", "halogen"):
        bit = sr.FEATURE_BITS[feat]
        diff = sum(int((((g.atom_bits & bit) != 0) != ((t.atom_bits & bit) != 0)).sum()) for g, t in zip(got, ref))
        assert diff <= 0.002 * n_atoms, (feat, diff)
    # aromatic 5/6-rings against fully sanitized RDKit (SSSR + RDKit aromaticity)
    rings_ref = sym = 0
    for r, g in zip(raw, got):
        ms = Chem.MolFromMolBlock(r.decode(), removeHs=False)
        want = {frozenset(x) for x in ms.GetRingInfo().AtomRings()
                if len(x) in (5, 6) and all(ms.GetAtomWithIdx(k).GetIsAromatic() for k in x)}
        have = {frozenset(int(k) for k in row if k >= 0) for row in g.rings}
        rings_ref += len(want)
        sym += len(want ^ have)
    assert rings_ref > 500 and sym <= 0.03 * rings_ref


def test_pocket_maps_geometric_with_box(receptor_pdb):
    from pocketvox.apps.screen import ScreenError, pocket_maps

    m = pocket_maps(receptor_pdb, center=(10.0, 20.0, 36.0), maps_file="geometric", box=12.0)
    assert m.probs.shape == (9, 12, 12, 12) and len(m.rec_xyz) == 8
    assert m.probs.max() > 0.3  # the Gly-Gly backbone offers partners
    with pytest.raises(ScreenError, match="exactly one of"):
        pocket_maps(receptor_pdb, center=(1, 2, 3), ligand="E20:A:1")


# ------------------------------------------------------------------------------------ --rescore cnn
@pytest.fixture(scope="module")
def cnn_setup(tmp_path_factory, bundled_dir):
    """A tiny random molecular model, the 7NGW receptor, and a library: its crystal ligand, the same
    ligand shifted 1.5 Å, and a benzene far away (outside)."""
    torch = pytest.importorskip("torch")
    from pocketvox.grid.channels import channel_names
    from pocketvox.volume.io import save_checkpoint
    from pocketvox.volume.unet import UNetConfig, build_unet

    torch.manual_seed(0)
    net = build_unet(UNetConfig(in_channels=16, out_channels=3, width=4, depth=2, norm="batch")).eval()
    meta = {"adapter": "molecular", "model": net.config.to_dict(), "channel_names": list(channel_names(True)),
            "target_names": ["hbond", "hydrophobic", "pistacking"],
            "thresholds_by_mode": {"pocket": [0.5] * 3, "complex": [0.5] * 3},
            "adapter_meta": {"options": {"size": 16.0, "resolution": 1.0}}}
    d = tmp_path_factory.mktemp("cnn")
    model = d / "m.pt"
    save_checkpoint({"model": net.state_dict(), "meta": meta}, model)
    rec = bundled_dir / "examples" / "7NGW_protein.pdb"
    lig = bundled_dir / "examples" / "7NGW_ligand.sdf"
    text = lig.read_text().split("$$$$")[0].rstrip("\n") + "\n$$$$\n"
    lines = text.splitlines()
    n_atoms = int(lines[3][:3])
    shifted = list(lines)
    for i in range(4, 4 + n_atoms):
        x = float(shifted[i][:10]) + 1.5
        shifted[i] = f"{x:10.4f}" + shifted[i][10:]
    shifted[0] = "shifted"
    lines[0] = "crystal"
    lib = d / "lib.sdf"
    lib.write_text("\n".join(lines) + "\n" + "\n".join(shifted) + "\n")
    return model, rec, lig, lib


def test_cnn_rescore_matches_the_network_on_each_pose(cnn_setup, tmp_path):
    """The rescorer's receptor grid is Predictor.features' receptor grid; each pose's ligand
    occupancy is the one the model would see for that ligand; a pose's terms are the network's
    probabilities at its own points and do not depend on the other poses of its batch."""
    from pocketvox.apps.inference import Predictor
    from pocketvox.apps.screen_cnn import cnn_rescorer
    from pocketvox.structure.io import load_complex

    model, rec, lig, lib = cnn_setup
    r = cnn_rescorer(str(rec), pocket=str(lig), model=str(model), batch_size=1)
    pred = Predictor.load(model)
    cx = load_complex(rec, ligand_file=lig)
    from pocketvox.grid.spec import GridSpec

    spec = GridSpec(tuple(r.origin + 0.5 * (r.n - 1) * r.resolution), r.n * r.resolution, r.resolution)
    np.testing.assert_allclose(spec.origin, r.origin, atol=1e-6)
    full = pred.features(cx, spec, "complex")
    lig_ch = [i for i, c in enumerate(pred.channel_names) if c.startswith("ligand_")]
    prot_ch = [i for i, c in enumerate(pred.channel_names) if not c.startswith("ligand_")]
    np.testing.assert_allclose(r.protein[prot_ch], full[prot_ch], atol=1e-5)
    assert not r.protein[lig_ch].any()
    batch = type_chunk(next(iter_chunks([lib], 10)))
    assert batch.ok.all() and batch.hv_bits is not None and batch.hv_ring.any()
    x = r.ligand_channels(batch, 0, np.zeros_like(r.protein))
    occ = pred.channel_names.index("ligand_occupancy")
    np.testing.assert_allclose(x[occ], full[occ], atol=1e-4)  # same atoms, same radii, same density
    t1 = r.terms(batch, batch.ok)
    r.batch_size = 8
    t8 = r.terms(batch, batch.ok)
    np.testing.assert_allclose(t1, t8, rtol=1e-5, atol=1e-6)
    assert t1.shape == (2, 3) and (t1 >= 0).all() and t1.sum() > 0
    # pose 0 by hand: the network's probabilities sampled at its hbond points
    probs = pred.predict_grids(x[None])[0]
    sel = (batch.pt_pose == 0) & ((batch.pt_bits & (DONOR | ACCEPTOR)) != 0)
    want = trilinear(probs, r.origin, r.resolution, np.zeros(int(sel.sum()), np.int64), batch.pt_xyz[sel])
    assert t1[0, 0] == pytest.approx(want.sum(), rel=1e-5)


def test_cnn_rescore_screen_and_cli(cnn_setup, tmp_path):
    from click.testing import CliRunner

    from pocketvox.apps.screen_cnn import cnn_rescorer
    from pocketvox.cli.main import cli

    model, rec, lig, lib = cnn_setup
    r = cnn_rescorer(str(rec), pocket=str(lig), model=str(model))
    from pocketvox.apps.screen import pocket_maps

    maps = pocket_maps(str(rec), pocket=str(lig), maps_file="geometric", box=32.0)
    a = run_screen(maps, [lib], tmp_path / "a.csv", progress=False, rescorer=r)
    assert a.molecules == 2
    df = read_results(tmp_path / "a.csv")
    assert {"term_hbond", "term_hydrophobic", "term_pistacking"} <= set(df.columns)
    batch = type_chunk(next(iter_chunks([lib], 10)))
    t = r.terms(batch, batch.ok)
    got = df.set_index("name")
    for i, name in enumerate(["crystal", "shifted"]):
        assert got.loc[name, "term_hbond"] == pytest.approx(t[i, 0], rel=1e-6)
        want = (t[i].sum() - 2.0 * got.loc[name, "clash"]) / batch.n_heavy[i] ** 0.5
        assert got.loc[name, "score"] == pytest.approx(want, rel=1e-6)
    out = tmp_path / "cli.csv"
    res = CliRunner().invoke(cli, ["screen", str(rec), str(lib), "--pocket", str(lig), "--rescore", "cnn",
                                   "--model", str(model), "--maps", "geometric", "--box", "32", "-q",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    cli_df = read_results(out).set_index("name")
    for name in ("crystal", "shifted"):
        assert cli_df.loc[name, "score"] == pytest.approx(got.loc[name, "score"], rel=1e-6)
