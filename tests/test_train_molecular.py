"""Molecular training end to end on a tiny cache: train, per-mode thresholds, export, Predictor,
evaluate JSON schema, CLI errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.test_dataset_molecular import IDS, small_cache, small_src  # noqa: E402,F401  (fixtures)


@pytest.fixture(scope="module")
def tiny_model(small_cache, tmp_path_factory):  # noqa: F811
    from pocketvox.apps.training import export_model, finalize
    from pocketvox.volume.trainer import TrainConfig, train

    path, _, _ = small_cache
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(adapter="molecular", out_dir=str(out), epochs=1, batch_size=2, width=4, depth=1,
                      threads=1, adapter_options={"cache": str(path)})
    res = train(cfg, progress=False)
    th = finalize(out)
    model = export_model(out / "best.pt", out / "slim.pt")
    return res, th, model, path


def test_training_writes_calibrated_exportable_model(tiny_model):
    from pocketvox.volume.io import load_checkpoint

    res, th, model, _ = tiny_model
    assert res["epochs_run"] == 1
    assert set(th) == {"complex", "pocket"} and all(len(v) == 3 for v in th.values())
    ck = load_checkpoint(model)
    assert "optimizer" not in ck
    meta = ck["meta"]
    assert len(meta["channel_names"]) == 16 and meta["channel_names"][8] == "ligand_hydrophobic"
    assert meta["target_names"] == ["hbond", "hydrophobic", "pistacking"]
    assert meta["adapter_meta"]["split"]["test"] == [IDS[3]]
    assert meta["thresholds_by_mode"] == th
    assert json.loads(model.with_suffix(".json").read_text())["model"]["width"] == 4


def test_predictor_on_a_complex_and_a_protein(tiny_model, posebusters_dir):
    from pocketvox.apps.inference import Predictor
    from pocketvox.errors import LigandError
    from pocketvox.structure import load_complex

    _, th, model, _ = tiny_model
    pred = Predictor.load(model)
    cx = load_complex(posebusters_dir / "5SAK" / "5SAK_protein.pdb",
                      ligand_file=posebusters_dir / "5SAK" / "5SAK_ligand.sdf")
    out = pred.predict(cx, mode="complex")
    assert out.probs.shape == (3, 24, 24, 24) and out.probs.dtype == np.float32
    assert 0.0 <= out.probs.min() and out.probs.max() <= 1.0
    assert np.allclose(out.thresholds, th["complex"])
    lig = cx.ligand.coords[cx.ligand.heavy]
    assert np.allclose(out.spec.center, 0.5 * (lig.min(0) + lig.max(0)), atol=1.0)
    pk = pred.predict(cx.protein, center=tuple(out.spec.center), mode="pocket")
    assert not np.allclose(pk.probs, out.probs)  # the ligand channels matter
    with pytest.raises(LigandError):
        pred.predict(cx.protein, mode="pocket")
    many = pred.predict_many([cx, cx], mode="complex")
    assert np.allclose(many[1].probs, out.probs, atol=1e-5)
    # a large grid tile by tile equals the untiled prediction
    from pocketvox.grid import GridSpec

    big = GridSpec(tuple(out.spec.center), 40.0, 1.0)
    feats = pred.features(cx, big, "complex")
    full = pred.predict_grids(feats[None])[0]
    tiled = pred.predict_volume(feats, tile=16)
    assert float(np.abs(full - tiled).max()) < 1e-5


def test_evaluate_json_schema_and_baselines(tiny_model):
    from pocketvox.apps.evaluate import evaluate

    _, _, model, cache = tiny_model
    res = {}
    for mode in ("complex", "pocket"):
        r = res[mode] = evaluate(cache, model=model, mode=mode, split="all", progress=False)
        assert set(r) == {"model", "baseline", "n_complexes", "failed"}
        assert r["n_complexes"] == 4
        for who in ("model", "baseline"):
            assert set(r[who]) == {"hbond", "hydrophobic", "pistacking", "mean_jaccard"}
            assert set(r[who]["hbond"]) == {"jaccard", "precision", "recall", "ap"}
            js = [r[who][c]["jaccard"] for c in ("hbond", "hydrophobic", "pistacking")]
            assert r[who]["mean_jaccard"] == pytest.approx(np.mean(js), abs=1e-4)
    # the complex baseline marks every donor/acceptor atom: it cannot miss an hbond label voxel
    r = res["complex"]
    assert r["baseline"]["hbond"]["recall"] == pytest.approx(1.0, abs=1e-6)


def test_pocket_baseline_geometry():
    from pocketvox.apps.baselines import PocketRuleParams, pocket_baseline
    from pocketvox.grid import GridSpec

    spec = GridSpec((0.0, 0.0, 0.0), 12.0, 1.0)
    # a buried shell of carbon atoms with one polar atom; the rule marks voxels 2.6–3.4 Å from it
    rng = np.random.default_rng(0)
    shell = rng.normal(size=(400, 3))
    shell = shell / np.linalg.norm(shell, axis=1, keepdims=True) * rng.uniform(5.5, 8, (400, 1))
    types = np.zeros((401, 8), bool)
    types[:400, 0] = True
    coords = np.vstack([shell, [[0.0, 0.0, 0.0]]])
    types[400, 3] = True
    out = pocket_baseline(coords, types, np.zeros((0, 3)), np.zeros((0, 3)), spec, ("hbond", "hydrophobic"),
                          PocketRuleParams(min_buried=10, max_buried=50))
    pts = np.stack(np.meshgrid(*spec.axes(), indexing="ij"), -1)
    d = np.linalg.norm(pts, axis=-1)
    hb = out[0] > 0
    assert hb.any() and np.all((d[hb] >= 2.6) & (d[hb] <= 3.4))
    assert not out[0][d < 2.0].any()


def test_cli_evaluate_and_train_errors(tmp_path, tiny_model):
    from pocketvox.cli.main import main

    _, _, model, cache = tiny_model
    with pytest.raises(SystemExit) as e:
        main(["evaluate", str(cache), "--model", str(tmp_path / "none.pt"), "--quiet"])
    assert e.value.code == 2
    (tmp_path / "bad.toml").write_text("epochs = [")
    with pytest.raises(SystemExit) as e:
        main(["train", "--config", str(tmp_path / "bad.toml")])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["train", "--adapter", "nosuch", "--out-dir", str(tmp_path / "r")])
    assert e.value.code == 2


def test_evaluate_folder_profiles_and_lists_failures(tiny_model, small_src):  # noqa: F811
    from pocketvox.apps.evaluate import evaluate

    _, _, model, _ = tiny_model
    r = evaluate(small_src, model=model, mode="pocket", split="train", progress=False)
    assert r["n_complexes"] == 2
    assert [f[0] for f in r["failed"]] == ["BAD1"]
