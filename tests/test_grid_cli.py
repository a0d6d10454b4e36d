"""`pocketvox channels` and `pocketvox voxelize`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pocketvox.grid.ccp4 import read_ccp4


def _run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pocketvox.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_channels_lists_channels_and_labels():
    r = _run("channels", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert len(d["channels"]) == 16 and d["channels"][7]["name"] == "protein_occupancy"
    assert {x["name"] for x in d["labels"] if x["default"]} == {"hbond", "hydrophobic", "pistacking"}
    r = _run("channels", "--no-ligand")
    assert r.returncode == 0 and "protein_metal" in r.stdout and "ligand_metal" not in r.stdout


def test_voxelize_writes_npz_and_maps(tmp_path, posebusters_dir):
    d = posebusters_dir / "7N03"
    out = tmp_path / "out"
    r = _run("voxelize", str(d / "7N03_protein.pdb"), "--ligand-file", str(d / "7N03_ligand.sdf"),
             "--resolution", "0.5", "--size", "16", "--channels", "--labels", "hbond,hydrophobic",
             "-o", str(out))
    assert r.returncode == 0, r.stderr
    with np.load(out / "grid.npz") as z:
        assert z["features"].shape == (16, 32, 32, 32) and z["labels"].shape == (2, 32, 32, 32)
        assert list(z["label_names"]) == ["hbond", "hydrophobic"]
        assert np.allclose(z["spacing"], 0.5)
        origin, labels, feats = z["origin"], z["labels"], z["features"]
    for k, name in enumerate(("hbond", "hydrophobic")):
        arr, o, sp = read_ccp4(out / f"label_{name}.ccp4")
        assert np.allclose(o, origin, atol=1e-4) and np.allclose(sp, 0.5)
        assert np.array_equal(arr, labels[k].astype(np.float32))
    assert labels[0].sum() > 0  # 7N03 has H-bonds
    arr, o, _ = read_ccp4(out / "channel_ligand_occupancy.ccp4")
    assert np.allclose(arr, feats[15])
    assert len(list(out.glob("channel_*.ccp4"))) == 16


def test_voxelize_center_and_no_labels(tmp_path, posebusters_dir):
    d = posebusters_dir / "7N03"
    out = tmp_path / "o2"
    r = _run("voxelize", str(d / "7N03_protein.pdb"), "--ligand-file", str(d / "7N03_ligand.sdf"),
             "--center", "-45,12,3", "--labels", "none", "--no-ligand-channels", "-o", str(out))
    assert r.returncode == 0, r.stderr
    with np.load(out / "grid.npz") as z:
        assert z["features"].shape == (8, 24, 24, 24) and z["labels"].shape[0] == 0
        assert np.allclose(z["origin"], np.array([-45, 12, 3]) - 11.5)
    assert not list(out.glob("label_*.ccp4"))


@pytest.mark.parametrize("args, needle", [
    (["--center", "1,2"], "--center"),
    (["--labels", "hbond,nonsense"], "unknown label class"),
])
def test_voxelize_bad_options(tmp_path, args, needle):
    f = tmp_path / "x.pdb"
    f.write_text("ATOM      1  CA  ALA A   1       0.000   0.000   0.000  1.00  0.00           C\nEND\n")
    r = _run("voxelize", str(f), *args, "-o", str(tmp_path / "o"))
    assert r.returncode != 0 and needle in r.stderr and "Traceback" not in r.stderr


def test_voxelize_bad_file_is_one_line(tmp_path):
    f = tmp_path / "empty.pdb"
    f.write_bytes(b"")
    r = _run("voxelize", str(f), "-o", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "empty.pdb" in r.stderr
    assert not (tmp_path / "o" / "grid.npz").exists()
