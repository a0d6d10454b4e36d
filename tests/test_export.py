"""Channel pruning, int8 quantisation, exported checkpoints and ``pocketvox export``."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pocketvox.volume import compress as C  # noqa: E402
from pocketvox.volume.unet import UNet3D, UNetConfig  # noqa: E402


def _warm(net, c, n=16):
    """Give batch norms non-trivial running statistics."""
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.randn(2, c, n, n, n) * 2 + 0.5)
    return net.eval()


def test_prune_removes_exactly_the_dead_channels():
    """Kill half the channels of every group (zero BN scale and shift, or zero transposed-conv filter):
    pruning 50% must remove exactly those and leave the function unchanged."""
    torch.manual_seed(0)
    net = _warm(UNet3D(UNetConfig(3, 2, width=8, depth=2)), 3)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for g in C._groups(net):
            name, axis = g["producer"]
            mod = net.get_submodule(name)
            n = mod.weight.shape[axis]
            dead = torch.as_tensor(rng.choice(n, n // 2, replace=False))
            if g["norm"] is not None:
                bn = net.get_submodule(g["norm"])
                bn.weight[dead] = 0
                bn.bias[dead] = 0
            else:
                mod.weight.index_fill_(axis, dead, 0.0)
                mod.bias[dead] = 0
    x = torch.randn(1, 3, 14, 14, 14)
    pruned = C.prune_unet(net, 0.5)
    assert C.n_parameters(pruned) < 0.3 * C.n_parameters(net)
    w0, w1 = C.channel_widths(net), C.channel_widths(pruned)
    assert w1["down.0.0"] == [3, 4] and w1["head"] == [4, 2] and w1["dec.0.0"] == [16, 8]
    assert all(w1[k][1] <= w0[k][1] for k in w0)
    with torch.no_grad():
        assert torch.allclose(pruned(x), net(x), atol=1e-5)


def test_prune_zero_fraction_is_identity_and_rebuild_from_state():
    torch.manual_seed(1)
    net = _warm(UNet3D(UNetConfig(2, 3, width=6, depth=3)), 2)
    x = torch.randn(1, 2, 16, 16, 16)
    with torch.no_grad():
        assert torch.equal(C.prune_unet(net, 0.0)(x), net(x))
        p = C.prune_unet(net, 0.3, multiple=4)
        assert all(w[1] % 4 == 0 for k, w in C.channel_widths(p).items() if k != "head")
        again = C.unet_from_state(net.config.to_dict(), p.state_dict()).eval()
        assert torch.equal(again(x), p(x))
    with pytest.raises(ValueError):
        C.prune_unet(net, 1.0)
    with pytest.raises(ValueError):
        C.prune_unet(UNet3D(UNetConfig(2, 3, width=8, depth=1, norm="group")), 0.5)


def test_int8_close_to_float_and_smaller():
    torch.manual_seed(2)
    net = _warm(UNet3D(UNetConfig(4, 2, width=8, depth=2)), 4)
    calib = [torch.randn(1, 4, 16, 16, 16) * 2 + 0.5 for _ in range(4)]
    q = C.quantize_int8(net, calib)
    assert C.is_quantized(q) and not C.is_quantized(net)
    x = torch.randn(1, 4, 18, 18, 18) * 2 + 0.5  # a size that needs padding
    with torch.no_grad():
        f, i8 = net(x), q(x)
    assert i8.shape == f.shape and i8.dtype == torch.float32
    err = (f - i8).abs().max() / f.abs().max()
    assert err < 0.1, float(err)
    # same decisions at a mid threshold on nearly every voxel
    thr = f.median()
    assert ((f > thr) == (i8 > thr)).float().mean() > 0.95
    assert C.state_bytes(net) / C.state_bytes(q) > 3.0
    # tiled inference sees the same interface (multiple, receptive radius) as the float net
    from pocketvox.volume.tiling import tiled_apply

    with torch.no_grad():
        t = tiled_apply(q, x, tile=8)
    assert t.shape == f.shape


def _ckpt(path, net, meta_extra=None):
    from pocketvox.volume.io import save_checkpoint

    meta = {"model": net.config.to_dict(), "target_names": ["core_a", "contact_b"], "thresholds": [0.5, 0.5]}
    meta.update(meta_extra or {})
    save_checkpoint({"model": net.state_dict(), "meta": meta}, path)
    return path


@pytest.fixture()
def synthetic_model(tmp_path):
    from pocketvox.volume.synthetic import SyntheticAdapter

    torch.manual_seed(3)
    net = _warm(UNet3D(UNetConfig(2, 2, width=8, depth=2)), 2)
    ad = SyntheticAdapter(n_train=6, size=16)
    return _ckpt(tmp_path / "float.pt", net, {"adapter": "synthetic", "adapter_meta": ad.metadata(),
                                               "channel_names": list(ad.channel_names)}), net


def test_export_prune_finetune_int8_roundtrip(synthetic_model, tmp_path):
    from pocketvox.apps.export import export_model
    from pocketvox.volume.io import load_checkpoint

    src, net = synthetic_model
    out = tmp_path / "small.pt"
    rep = export_model(src, out, prune=0.5, quantize="int8", finetune_steps=3, calib_grids=3, finetune_grids=3,
                       progress=False)
    assert rep["parameters"] < 0.35 * rep["source_parameters"]
    assert rep["bytes"] * 3 < rep["source_bytes"]
    raw = torch.load(out, weights_only=True)  # loadable the safe way
    assert raw["format"] == "pocketvox-volume/1"
    ck = load_checkpoint(out)
    comp = ck["meta"]["compression"]
    assert comp["prune"]["fraction"] == 0.5 and comp["quantize"] == "int8" and comp["fine_tune"]["steps"] == 3
    assert comp["calibration_grids"] == 3 and len(comp["source_sha256"]) == 64
    assert comp["widths"]["down.0.0"] == [2, 4]
    assert ck["meta"]["target_names"] == ["core_a", "contact_b"]  # the source metadata is kept
    m, meta = C.load_model(out)
    assert C.is_quantized(m)
    x = torch.randn(1, 2, 16, 16, 16)
    with torch.no_grad():
        assert m(x).shape == (1, 2, 16, 16, 16)
    # a pruned float export (no fine-tune, no data needed) reloads to the very same function
    out2 = tmp_path / "pruned.pt"
    export_model(src, out2, prune=0.25, progress=False)
    p2, _ = C.load_model(out2)
    with torch.no_grad():
        assert torch.allclose(p2(x), C.prune_unet(net, 0.25)(x), atol=1e-6)
    # an int8 model cannot be explained, and cannot be exported again
    from pocketvox.apps.explain import ExplainError, ExplainModel
    from pocketvox.apps.export import ExportError

    with pytest.raises(ExplainError):
        ExplainModel.load(out)
    with pytest.raises(ExportError):
        export_model(out, tmp_path / "x.pt", quantize="int8", progress=False)


def test_export_molecular_calibration_from_complex_folder(bundled_dir, tmp_path):
    """int8 calibration on grids made from a folder of complexes (PoseBusters layout)."""
    from pocketvox.apps.export import export_model
    from pocketvox.grid.channels import channel_names

    d = tmp_path / "cx" / "7NGW"
    d.mkdir(parents=True)
    shutil.copy(bundled_dir / "examples" / "7NGW_protein.pdb", d / "7NGW_protein.pdb")
    shutil.copy(bundled_dir / "examples" / "7NGW_ligand.sdf", d / "7NGW_ligand.sdf")
    (tmp_path / "cx" / "junk").mkdir()  # not a complex: ignored
    torch.manual_seed(4)
    net = _warm(UNet3D(UNetConfig(16, 3, width=4, depth=2)), 16)
    src = _ckpt(tmp_path / "m.pt", net, {"channel_names": list(channel_names(True)),
                                         "target_names": ["hbond", "hydrophobic", "pistacking"],
                                         "adapter_meta": {"grid": {"size": 16.0, "resolution": 1.0}}})
    rep = export_model(src, tmp_path / "q.pt", quantize="int8", data=tmp_path / "cx", progress=False)
    assert rep["calibration_grids"] == 1 and rep["engine"] in C.QUANT_ENGINES


def test_cli_export_and_errors(synthetic_model, tmp_path):
    from click.testing import CliRunner

    from pocketvox.cli.main import cli, main

    src, _ = synthetic_model
    r = CliRunner().invoke(cli, ["export", "--model", str(src), "--prune", "0.5", "--format", "json",
                                 "-o", str(tmp_path / "p.pt")])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output.strip().splitlines()[-1])
    assert rep["prune"]["fraction"] == 0.5 and (tmp_path / "p.pt").is_file()
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 10)
    cases = [["--model", str(src)],  # nothing to do
             ["--model", str(src), "--prune", "1.5"],
             ["--model", str(tmp_path / "missing.pt"), "--prune", "0.5"],
             ["--model", str(bad), "--prune", "0.5"],
             ["--model", str(src), "--quantize", "int8", "--data", str(tmp_path / "nodata")]]
    for args in cases:
        with pytest.raises(SystemExit) as e:
            main(["export", *args, "-o", str(tmp_path / "o.pt")])
        assert e.value.code == 2, args
    assert not (tmp_path / "o.pt").exists()


def test_predictor_loads_exported_int8_and_pruned_models(bundled_dir, tmp_path):
    """Exported models load wherever the default does: Predictor / predict() with int8 and pruned nets."""
    from pocketvox.apps.export import export_model
    from pocketvox.apps.inference import Predictor
    from pocketvox.apps.predict import predict
    from pocketvox.errors import PocketvoxError
    from pocketvox.grid.channels import channel_names
    from pocketvox.structure.io import load_complex

    d = tmp_path / "cx" / "7NGW"
    d.mkdir(parents=True)
    prot, lig = bundled_dir / "examples" / "7NGW_protein.pdb", bundled_dir / "examples" / "7NGW_ligand.sdf"
    shutil.copy(prot, d / "7NGW_protein.pdb")
    shutil.copy(lig, d / "7NGW_ligand.sdf")
    torch.manual_seed(5)
    net = _warm(UNet3D(UNetConfig(16, 3, width=4, depth=2)), 16)
    src = _ckpt(tmp_path / "m.pt", net, {"adapter": "molecular", "channel_names": list(channel_names(True)),
                                         "target_names": ["hbond", "hydrophobic", "pistacking"],
                                         "thresholds_by_mode": {"pocket": [0.5] * 3, "complex": [0.5] * 3},
                                         "adapter_meta": {"options": {"size": 16.0, "resolution": 1.0}}})
    q8 = tmp_path / "q.pt"
    export_model(src, q8, quantize="int8", data=tmp_path / "cx", progress=False)
    pruned = tmp_path / "p.pt"
    export_model(src, pruned, prune=0.5, progress=False)
    cpx = load_complex(prot, ligand_file=lig)
    ref = Predictor.load(src).predict(cpx, mode="complex").probs
    pq = Predictor.load(q8)
    assert C.is_quantized(pq.net)
    got = pq.predict(cpx, mode="complex").probs
    assert got.shape == ref.shape and np.abs(got - ref).mean() < 0.05  # int8 close to float
    pp = Predictor.load(pruned)
    assert pp.net.down[0][0].out_channels == 2  # the pruned width, not the config's
    with torch.no_grad():
        x = torch.as_tensor(pp.features(cpx, pp.spec_for(cpx), "pocket"))[None]
        assert torch.allclose(pp.net(x), C.prune_unet(net, 0.5)(x), atol=1e-5)
    res = predict(prot, ligand_file=lig, model=q8, mode="pocket")  # the whole workflow on int8
    assert res.probs.shape == (3, 16, 16, 16) and res.model_info["path"] == str(q8)
    with pytest.raises(PocketvoxError):  # int8 runs on CPU only (or: no CUDA here) — one clean error
        Predictor.load(q8, device="cuda")


def test_finetune_uses_per_class_pos_weight(tmp_path):
    """Models trained with one BCE positive weight per class fine-tune with the same list."""
    from pocketvox.apps.export import export_model
    from pocketvox.volume.synthetic import SyntheticAdapter

    torch.manual_seed(6)
    net = _warm(UNet3D(UNetConfig(2, 2, width=8, depth=2)), 2)
    ad = SyntheticAdapter(n_train=4, size=16)
    src = _ckpt(tmp_path / "f.pt", net, {"adapter": "synthetic", "adapter_meta": ad.metadata(),
                                         "channel_names": list(ad.channel_names),
                                         "config": {"pos_weight": [5.0, 25.0]}})
    rep = export_model(src, tmp_path / "p.pt", prune=0.25, finetune_steps=2, finetune_grids=2, progress=False)
    assert rep["fine_tune"]["steps"] == 2 and np.isfinite(rep["fine_tune"]["loss_last"])


def test_export_default_model_by_name(tmp_path):
    """``--model default`` exports the shipped model (pruned without fine-tune: no data needed)."""
    from pocketvox.apps.export import export_model
    from pocketvox.apps.inference import DEFAULT_MODEL, Predictor

    if not DEFAULT_MODEL.is_file():
        pytest.skip("no shipped default model")
    rep = export_model("default", tmp_path / "p.pt", prune=0.5, progress=False)
    assert rep["parameters"] < 0.4 * rep["source_parameters"]
    p = Predictor.load(tmp_path / "p.pt")  # and the pruned export loads like the default
    assert p.class_names == Predictor.load(None).class_names
