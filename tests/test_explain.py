"""Grad-CAM attributions: domain-free core, model-randomisation sanity check, molecular maps/tables, CLI."""

from __future__ import annotations

import functools
import json
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pocketvox.volume.explain import grad_cam, randomize_weights, sample_at, spearman  # noqa: E402
from pocketvox.volume.unet import UNet3D, UNetConfig  # noqa: E402


@functools.lru_cache(maxsize=1)
def _trained_blob_model():
    """A small U-Net trained for a few seconds on the synthetic blobs (class 0: blob-A cores)."""
    from pocketvox.volume.losses import make_loss
    from pocketvox.volume.synthetic import SyntheticAdapter

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: threading costs more than it gives on a shared CPU
    ds = SyntheticAdapter(n_train=16, size=16).datasets(seed=0)["train"]
    net = UNet3D(UNetConfig(2, 2, width=4, depth=2))
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    loss = make_loss({"name": "bce_jaccard"})
    net.train()
    for step in range(30):
        ds.set_epoch(step)
        items = [ds[(2 * step + j) % len(ds)] for j in range(2)]
        x = torch.stack([it["inputs"] for it in items])
        y = torch.stack([it["targets"] for it in items])
        opt.zero_grad()
        loss(net(x), y).backward()
        opt.step()
    torch.set_num_threads(threads)
    net.eval()
    test = SyntheticAdapter(n_test=4, size=16).datasets(seed=0)["test"]
    return net, [test[i] for i in range(len(test))]


def test_grad_cam_shape_and_side_effects():
    torch.manual_seed(0)
    net = UNet3D(UNetConfig(3, 2, width=4, depth=2))
    net.train()
    x = torch.randn(1, 3, 13, 11, 9)  # not a multiple of 4: the padded feature map must be cropped
    a = grad_cam(net, x, 1)
    assert a.shape == (13, 11, 9) and a.dtype == np.float32
    assert np.isfinite(a).all() and (a >= 0).all() and a.max() > 0
    assert net.training  # mode restored
    assert all(p.grad is None for p in net.parameters())  # no gradients left on the model
    coarse = grad_cam(net, x, 1, layer="bottom")  # a coarser layer is upsampled to the input grid
    assert coarse.shape == (13, 11, 9)
    with pytest.raises(ValueError):
        grad_cam(net, x, 5)
    with pytest.raises(ValueError):
        grad_cam(net, x, 0, region=np.ones((3, 3, 3), bool))


def test_model_randomisation_changes_attributions():
    """Adebayo et al. 2018: the map must depend on the learned weights."""
    net, samples = _trained_blob_model()
    rand = randomize_weights(net, seed=1)
    rhos, same = [], []
    for s in samples:
        x = s["inputs"][None]
        a = grad_cam(net, x, 0)
        same.append(spearman(a, grad_cam(net, x, 0)))
        rhos.append(spearman(a, grad_cam(rand, x, 0)))
    assert np.allclose(same, 1.0)  # deterministic for the same model
    assert np.nanmean(rhos) < 0.5, rhos
    # cascading randomisation of only the head also changes the map
    head_only = randomize_weights(net, seed=2, cascade=1)
    x = samples[0]["inputs"][None]
    assert spearman(grad_cam(net, x, 0), grad_cam(head_only, x, 0)) < 0.99


def test_region_attribution_is_local_for_hirescam():
    """Explaining one predicted blob puts the attribution near that blob, not elsewhere."""
    net, samples = _trained_blob_model()
    hits = 0
    for s in samples:
        x = s["inputs"][None]
        t = s["targets"][0].numpy() > 0
        from scipy import ndimage

        lab, n = ndimage.label(t)
        if n < 2:
            continue
        region = lab == 1
        a = grad_cam(net, x, 0, region=region, method="hirescam")
        near = ndimage.binary_dilation(region, iterations=2)
        far = ~ndimage.binary_dilation(region, iterations=5)
        hits += a[near].mean() > 3 * a[far].mean()
    assert hits >= 2


def test_sample_at_trilinear():
    v = np.arange(27, dtype=np.float32).reshape(3, 3, 3)
    pts = np.array([[1, 1, 1], [0.5, 0, 0], [0, 0, 0.5], [5, 5, 5]], float)
    got = sample_at(v, pts)
    assert np.allclose(got, [13, 4.5, 0.5, 0.0])


# ------------------------------------------------------------------------------------ molecular
@pytest.fixture(scope="module")
def rand_model(tmp_path_factory):
    from pocketvox.grid.channels import channel_names
    from pocketvox.volume.io import save_checkpoint

    torch.manual_seed(0)
    net = UNet3D(UNetConfig(16, 3, width=4, depth=2))
    net.train()
    with torch.no_grad():
        net(torch.randn(2, 16, 16, 16, 16))
    net.eval()
    meta = {"model": net.config.to_dict(), "channel_names": list(channel_names(True)),
            "target_names": ["hbond", "hydrophobic", "pistacking"], "thresholds": [0.5, 0.5, 0.5],
            "adapter_meta": {"grid": {"size": 16.0, "resolution": 1.0}}}
    p = tmp_path_factory.mktemp("model") / "rand.pt"
    save_checkpoint({"model": net.state_dict(), "meta": meta}, p)
    return p


@pytest.fixture(scope="module")
def example(bundled_dir):
    return bundled_dir / "examples" / "7NGW_protein.pdb", bundled_dir / "examples" / "7NGW_ligand.sdf"


def test_explain_complex_files_and_tables(example, rand_model, tmp_path):
    from pocketvox.apps.explain import explain
    from pocketvox.grid.ccp4 import read_ccp4

    prot, lig = example
    res = explain(prot, ligand_file=lig, cls="hydrophobic", mode="complex", model=rand_model)
    assert res.spec.shape == (16, 16, 16)  # grid size from the model's metadata
    files = res.write(tmp_path)
    arr, origin, spacing = read_ccp4(tmp_path / files["map"])
    assert np.allclose(arr, res.attribution, atol=1e-6)
    assert np.allclose(origin, res.spec.origin) and np.allclose(spacing, 1.0)
    import pandas as pd

    atoms = pd.read_csv(tmp_path / "atoms.csv", keep_default_na=False)
    residues = pd.read_csv(tmp_path / "residues.csv", keep_default_na=False)
    # the atom value is the map at the atom centre: check an atom near a voxel centre by hand
    prot_atoms = atoms[atoms.molecule == "protein"]
    idx = res.spec.to_index(prot_atoms[["x", "y", "z"]].to_numpy())
    inside = np.all((idx >= 0) & (idx <= 15), axis=1)
    assert inside.any() and not inside.all()  # the box cuts the protein
    assert np.allclose(prot_atoms.attribution.to_numpy()[~inside], 0.0)
    i = int(np.flatnonzero(inside)[0])
    assert prot_atoms.attribution.iloc[i] == pytest.approx(float(sample_at(res.attribution, idx[i:i + 1])[0]),
                                                           rel=1e-4, abs=1e-9)
    # residue sums are the per-residue sums of the atom values, ranked
    sums = prot_atoms.groupby("residue").attribution.sum()
    assert np.allclose(residues.set_index("residue").attribution_sum.loc[sums.index], sums.to_numpy(), rtol=1e-4,
                       atol=1e-9)
    assert (np.diff(residues.attribution_sum.to_numpy()) <= 1e-12).all()
    assert list(residues["rank"]) == list(range(1, len(residues) + 1))
    assert (atoms.molecule == "ligand").sum() > 0
    summary = json.loads((tmp_path / "explain.json").read_text())
    assert summary["class"] == "hydrophobic" and summary["top_residues"][0]["residue"] == residues.residue[0]


def test_pocket_mode_hides_the_ligand(example, rand_model):
    from pocketvox.apps.explain import ExplainModel
    from pocketvox.structure.io import load_complex

    prot, lig = example
    m = ExplainModel.load(rand_model)
    cpx = load_complex(prot, ligand_file=lig)
    spec = m.spec_for(cpx)
    xc = m.features(cpx.protein, cpx.ligand, spec, "complex").numpy()[0]
    xp = m.features(cpx.protein, cpx.ligand, spec, "pocket").numpy()[0]
    lig_ch = [i for i, n in enumerate(m.channel_names) if n.startswith("ligand")]
    assert xc[lig_ch].sum() > 0 and xp[lig_ch].sum() == 0
    prot_ch = [i for i, n in enumerate(m.channel_names) if n.startswith("protein")]
    assert np.array_equal(xc[prot_ch], xp[prot_ch])


def test_hotspot_regions_match_find_hotspots():
    from pocketvox.apps.explain import hotspot_regions
    from pocketvox.apps.hotspots import find_hotspots
    from pocketvox.grid.spec import GridSpec

    rng = np.random.default_rng(0)
    from scipy import ndimage

    prob = ndimage.gaussian_filter(rng.random((20, 20, 20)), 1.5)
    prob = (prob - prob.min()) / np.ptp(prob)
    spec = GridSpec((0.0, 0.0, 0.0), 20.0, 1.0)
    hs = find_hotspots(prob[None], spec, ("hbond",), [0.6])
    regs = hotspot_regions(prob, 0.6)
    assert len(hs) >= 2 and len(regs) == len(hs)
    for h, r in zip(hs, regs):
        xyz = spec.to_coords(np.argwhere(r))
        w = prob[r]
        assert r.sum() == h.n_voxels
        assert np.allclose((xyz * w[:, None]).sum(0) / w.sum(), h.center)


def test_explain_hotspots_for_predict(example, rand_model):
    from pocketvox.apps.explain import ExplainModel, explain_hotspots
    from pocketvox.apps.hotspots import find_hotspots
    from pocketvox.structure.io import load_complex

    prot, lig = example
    m = ExplainModel.load(rand_model)
    cpx = load_complex(prot, ligand_file=lig)
    spec = m.spec_for(cpx)
    x = m.features(cpx.protein, cpx.ligand, spec, "pocket")
    probs = torch.sigmoid(m.logits(x))[0].numpy()
    th = np.quantile(probs.reshape(3, -1), 0.97, axis=1)  # a random net: thresholds that make hotspots
    from pocketvox.apps.hotspots import HotspotParams

    hs = find_hotspots(probs, spec, m.class_names, th, cpx.protein, params=HotspotParams(max_per_class=2))
    assert hs
    result = SimpleNamespace(hotspots=hs, probs=probs, spec=spec, class_names=m.class_names, thresholds=th,
                             protein=cpx.protein, complex=cpx, mode="pocket", inputs={"scan": False})
    m.thresholds = th  # explain_hotspots must use the regions of these thresholds
    out = explain_hotspots(result, predictor=SimpleNamespace(model=m.net, meta=m.meta, device="cpu"), top=3)
    assert [(o["class"], o["rank"]) for o in out] == [(h.cls, h.rank) for h in hs]
    keys = set(cpx.protein.residue_keys())
    assert all(1 <= len(o["top_residues"]) <= 3 and {r["residue"] for r in o["top_residues"]} <= keys for o in out)


def test_cli_explain_and_errors(example, rand_model, tmp_path):
    from click.testing import CliRunner

    from pocketvox.cli.main import cli

    prot, lig = example
    r = CliRunner().invoke(cli, ["explain", str(prot), "--ligand-file", str(lig), "--model", str(rand_model),
                                 "--class", "hbond", "--format", "json", "-o", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["class"] == "hbond"
    assert (tmp_path / "o" / "attribution_hbond.ccp4").is_file()
    from pocketvox.cli.main import main

    for extra in (["--class", "nope"], ["--hotspot", "99"]):
        with pytest.raises(SystemExit) as e:
            main(["explain", str(prot), "--ligand-file", str(lig), "--model", str(rand_model), *extra,
                  "-o", str(tmp_path / "bad")])
        assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["explain", str(prot), "--center", "0,0,0", "--mode", "complex", "--model", str(rand_model),
              "-o", str(tmp_path / "bad")])
    assert e.value.code == 2


def test_attribution_on_a_nifti_volume_through_the_medical_adapter(tmp_path):
    """The core is domain-free: explain a synthetic NIfTI scan and write the map with the scan's affine."""
    pytest.importorskip("nibabel")
    from pocketvox.adapters.medical import read_image, write_nifti

    rng = np.random.default_rng(0)
    affine = np.diag([1.2, 0.9, 2.0, 1.0])
    affine[:3, 3] = [-10.0, 5.0, 3.0]
    write_nifti(tmp_path / "scan.nii.gz", rng.normal(size=(12, 10, 8)).astype(np.float32), affine)
    img = read_image(tmp_path / "scan.nii.gz")
    torch.manual_seed(0)
    net = UNet3D(UNetConfig(1, 4, width=4, depth=2, norm="instance")).eval()
    x = torch.from_numpy(np.asarray(img.data, np.float32))[None, None]
    region = np.zeros(img.shape, bool)
    region[3:6, 3:6, 2:5] = True
    att = grad_cam(net, x, 2, region=region, method="hirescam")
    assert att.shape == img.shape and att.max() > 0
    write_nifti(tmp_path / "attribution.nii.gz", att, img.affine, "pocketvox attribution class 2")
    back = read_image(tmp_path / "attribution.nii.gz")
    assert np.allclose(back.affine, img.affine) and np.allclose(back.data, att)


def test_predict_explain_adds_top_residues(example, tmp_path):
    """``predict --explain``: each hotspot in summary.json carries its top residues, which are the
    ones explain_hotspots gives for that hotspot; without the flag there are none."""
    from click.testing import CliRunner

    from pocketvox.apps.explain import explain_hotspots
    from pocketvox.apps.inference import Predictor
    from pocketvox.apps.predict import predict
    from pocketvox.cli.main import cli
    from pocketvox.grid.channels import channel_names
    from pocketvox.structure.io import load_complex
    from pocketvox.volume.io import save_checkpoint

    prot, lig = example
    torch.manual_seed(1)
    net = UNet3D(UNetConfig(16, 3, width=4, depth=2))
    net.train()
    with torch.no_grad():
        net(torch.randn(2, 16, 16, 16, 16))
    net.eval()
    meta = {"adapter": "molecular", "model": net.config.to_dict(), "channel_names": list(channel_names(True)),
            "target_names": ["hbond", "hydrophobic", "pistacking"],
            "thresholds_by_mode": {"pocket": [0.5] * 3, "complex": [0.5] * 3},
            "adapter_meta": {"options": {"size": 16.0, "resolution": 1.0}}}
    path = tmp_path / "m.pt"
    save_checkpoint({"model": net.state_dict(), "meta": meta}, path)
    # thresholds that make a few hotspots with this random network: its 97th percentile per class
    p = Predictor.load(path)
    probs = p.predict(load_complex(prot, ligand_file=lig), mode="pocket").probs
    meta["thresholds_by_mode"]["pocket"] = np.quantile(probs.reshape(3, -1), 0.97, axis=1).tolist()
    save_checkpoint({"model": net.state_dict(), "meta": meta}, path)

    res = predict(prot, ligand_file=lig, model=path, mode="pocket", explain=True, explain_top=3)
    assert res.hotspots and len(res.explanations) == len(res.hotspots)
    keys = set(res.protein.residue_keys())
    again = explain_hotspots(res, predictor=Predictor.load(path), top=3)
    s = res.summary()
    for h, e in zip(s["hotspots"], again):
        assert 1 <= len(h["top_residues"]) <= 3 and {r["residue"] for r in h["top_residues"]} <= keys
        assert [r["residue"] for r in h["top_residues"]] == [r["residue"] for r in e["top_residues"]]
    assert "top_residues" not in predict(prot, ligand_file=lig, model=path, mode="pocket").summary()["hotspots"][0]
    out = tmp_path / "o"
    r = CliRunner().invoke(cli, ["predict", str(prot), "--ligand-file", str(lig), "--model", str(path), "--explain",
                                 "--no-figure", "--format", "json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    on_disk = json.loads((out / "summary.json").read_text())
    assert all(h["top_residues"] for h in on_disk["hotspots"]) and "explain" in on_disk["timings_s"]
