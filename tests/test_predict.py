"""predict end to end: files written, maps aligned with the structure, hotspots consistent with the
probabilities, scan equal to the boxed prediction where they overlap, clean errors.

A tiny randomly initialised checkpoint keeps these tests independent of the shipped model; the
shipped model has its own test (``test_default_model_predicts``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

DATA = Path(__file__).resolve().parents[1] / "data" / "examples"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from pocketvox.grid.channels import channel_names
    from pocketvox.volume.io import save_checkpoint
    from pocketvox.volume.unet import UNetConfig, build_unet

    torch.manual_seed(0)
    cfg = UNetConfig(in_channels=16, out_channels=3, width=4, depth=2, norm="batch")
    net = build_unet(cfg).eval()
    # bias the output so that some voxels pass the thresholds
    meta = {
        "adapter": "molecular",
        "model": cfg.to_dict(),
        "target_names": ["hbond", "hydrophobic", "pistacking"],
        "channel_names": list(channel_names(True)),
        "adapter_meta": {"options": {"size": 16.0, "resolution": 1.0}},
        "thresholds_by_mode": {"pocket": [0.5, 0.5, 0.5], "complex": [0.5, 0.5, 0.5]},
    }
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_checkpoint({"model": net.state_dict(), "meta": meta}, path)
    return path


def test_predict_writes_aligned_outputs(tiny_model, tmp_path):
    from pocketvox.apps.predict import predict
    from pocketvox.grid.ccp4 import read_ccp4

    res = predict(DATA / "1eve.pdb.gz", ligand="E20:A:2001", model=tiny_model, mode="pocket")
    files = res.write(tmp_path)
    for f in ("summary.json", "view.pml", "view.cxc", "prediction.png", "ligand.pdb"):
        assert (tmp_path / f).is_file(), f
    arr, origin, spacing = read_ccp4(tmp_path / "pred_hbond.ccp4")
    assert np.allclose(origin, res.spec.origin, atol=1e-3)
    assert np.allclose(spacing, res.spec.resolution)
    assert np.allclose(arr, res.probs[0], atol=1e-6)
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["ligand"]["id"] == "E20:A:2001"
    assert s["mode"] == "pocket" and set(s["classes"]) == {"hbond", "hydrophobic", "pistacking"}
    assert s["interactions"] and all("residue" in r for r in s["interactions"])
    # every hotspot centre lies in the box, and its peak is above its class threshold
    for h in s["hotspots"]:
        assert res.spec.contains(np.array([h["center"]]))[0]
        if not h["tentative"]:
            assert h["probability"] >= s["thresholds"][h["class"]]
        assert isinstance(h["satisfied"], bool)
    pml = (tmp_path / "view.pml").read_text()
    assert "pred_hbond.ccp4" in pml and "isosurface" in pml
    assert "volume #" in (tmp_path / "view.cxc").read_text()
    assert files["summary"] == "summary.json"


def test_hotspots_match_thresholded_components():
    from pocketvox.apps.hotspots import find_hotspots
    from pocketvox.grid import GridSpec

    spec = GridSpec((0.0, 0.0, 0.0), 10.0, 1.0)
    probs = np.zeros((1,) + spec.shape, np.float32)
    probs[0, 2:4, 2:4, 2:4] = 0.9   # a 8-voxel blob
    probs[0, 7, 7, 7] = 0.95        # a single voxel: below min_voxels
    hs = find_hotspots(probs, spec, ["hbond"], [0.5])
    assert len(hs) == 1
    assert hs[0].n_voxels == 8 and hs[0].volume == pytest.approx(8.0)
    assert np.allclose(hs[0].center, spec.to_coords(np.array([[2.5, 2.5, 2.5]]))[0])
    assert not hs[0].tentative
    # nothing reaches the threshold: the strongest blob is still reported, flagged tentative
    weak = probs * 0.1
    hs = find_hotspots(weak, spec, ["hbond"], [0.5])
    assert len(hs) == 1 and hs[0].tentative and hs[0].n_voxels == 8
    from pocketvox.apps.hotspots import HotspotParams

    assert find_hotspots(weak, spec, ["hbond"], [0.5], params=HotspotParams(fallback_relative=0)) == []


def test_scan_tiled_equals_untiled(tiny_model):
    """The whole-protein scan (tiled, with halos) equals one untiled pass over the same grid, and its
    solvent-shell mask excludes the protein interior and bulk solvent."""
    from pocketvox.apps.inference import Predictor
    from pocketvox.apps.scan import scan_protein, surface_mask
    from pocketvox.structure.io import load_complex

    c = load_complex(DATA / "7NGW_protein.pdb", ligand_file=DATA / "7NGW_ligand.sdf", site_radius=8.0)
    pred = Predictor.load(tiny_model)
    full = scan_protein(pred, c.protein, tile=24)
    assert full.spec.contains(c.protein.coords).all()
    direct = pred.predict_grids(pred.features(c.protein, full.spec, "pocket")[None])[0]
    assert np.allclose(full.probs, direct, atol=1e-5)
    mask = surface_mask(c.protein, full.spec)
    from scipy.spatial import cKDTree

    pts = full.spec.to_coords(np.argwhere(mask).astype(float))
    d, _ = cKDTree(c.protein.coords).query(pts)
    assert d.min() >= 2.0 and d.max() <= 6.0 + full.spec.resolution


def test_cli_predict_and_bad_input(tiny_model, tmp_path):
    exe = [sys.executable, "-m", "pocketvox.cli.main"]
    out = tmp_path / "o"
    r = subprocess.run(exe + ["predict", str(DATA / "7NGW_protein.pdb"), "--ligand-file", str(DATA / "7NGW_ligand.sdf"),
                              "--model", str(tiny_model), "-o", str(out), "--format", "json", "--no-figure"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["ligand"]["id"].endswith(":L:1") and (out / "pred_pistacking.ccp4").is_file()
    bad = tmp_path / "bad.pdb"
    bad.write_bytes(b"\x00\x01binary")
    r = subprocess.run(exe + ["predict", str(bad), "--model", str(tiny_model), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and str(bad) in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run(exe + ["predict", str(DATA / "7NGW_protein.pdb"), "--model", str(tiny_model), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "--center" in r.stderr and "Traceback" not in r.stderr
