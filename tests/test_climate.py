"""Climate adapter: readers, column physics, the PW network's physics layer, exact tiling, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pocketvox.errors import InputFileError, PocketvoxError

xr = pytest.importorskip("xarray")
torch = pytest.importorskip("torch")

from pocketvox.adapters.climate import (  # noqa: E402
    ClimateAdapter,
    G,
    build_pw_net,
    column_features,
    column_integral_np,
    layer_edges_pa,
    layer_thickness,
    load_pw_net,
    read_climate,
    saturation_q,
    save_pw_net,
    tiled_predict,
    train_pw_net,
)

NAM07 = "fh.0012_tl.press_gr.awp211"
NAM18 = "nam.t00z.awp21100.tm00"
LEVELS = np.arange(1000, 99, -50, dtype=float)


@pytest.fixture(scope="module")
def climate_dir(volumes_dir):
    return volumes_dir / "climate"


# ------------------------------------------------------------------ physics
def test_layer_edges_and_clipping():
    pe = layer_edges_pa(LEVELS)
    assert pe[0] == 110000 and pe[1] == 97500 and pe[-1] == 7500
    sp = np.array([[101000.0, 70000.0]])
    dp = layer_thickness(LEVELS, sp)
    np.testing.assert_allclose(dp.sum(0), sp - 7500)  # the column ends at the surface
    assert dp[0, 0, 1] == 0 and dp[:, 0, 1].min() == 0  # layers under the ground get nothing
    with pytest.raises(PocketvoxError):
        layer_edges_pa([100, 200, 300])


def test_saturation_numpy_matches_torch():
    t = np.array([250.0, 273.15, 300.0])
    p = np.array([50000.0, 85000.0, 100000.0])
    qn = saturation_q(t, p)
    qt = saturation_q(torch.tensor(t), torch.tensor(p)).numpy()
    np.testing.assert_allclose(qn, qt, rtol=1e-12)
    assert 0.0215 < qn[2] < 0.0230  # ~22.5 g/kg at 300 K, 1000 hPa


def test_physics_reproduces_pwat_from_rh(climate_dir):
    for name, rmse_max in ((NAM07, 0.7), (NAM18, 0.45)):
        f = read_climate(climate_dir / f"{name}.nc")
        rh = xr.open_dataset(climate_dir / f"{name}.nc")["r"].values.astype(float)
        p = f.levels_hpa[:, None, None] * 100
        t = f.fields["t"].astype(float)
        # q from RH via vapour pressure e = RH · es, not via q_sat: the README's recipe
        es = 611.2 * np.exp(17.67 * (t - 273.15) / (t - 29.65))
        e = rh / 100 * es
        q = 0.622 * e / (p - 0.378 * e)
        pw = column_integral_np(q, layer_thickness(f.levels_hpa, f.sp_pa))
        assert np.sqrt(np.mean((pw - f.pwat) ** 2)) < rmse_max
        assert np.corrcoef(pw.ravel(), f.pwat.ravel())[0, 1] > 0.998


# ------------------------------------------------------------------ readers
def test_grib_equals_netcdf(climate_dir):
    pytest.importorskip("cfgrib")
    a = read_climate(climate_dir / f"{NAM18}.grib2")
    b = read_climate(climate_dir / f"{NAM18}.nc")
    assert a.shape == b.shape == (19, 65, 93)
    for v in ("t", "gh", "u"):
        np.testing.assert_allclose(a.fields[v], b.fields[v], rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(a.sp_pa, b.sp_pa, rtol=1e-6)
    np.testing.assert_allclose(a.pwat, b.pwat, rtol=1e-6)
    np.testing.assert_allclose(a.lon, b.lon, atol=1e-4)
    assert not a.periodic_x and not b.periodic_x


def test_global_grads_grid(climate_dir):
    f = read_climate(climate_dir / "grads_model.nc", time_index=2)
    assert f.periodic_x and f.shape == (7, 46, 72)
    assert all(np.isfinite(v).all() for v in f.fields.values())  # under-ground NaN filled from above
    assert f.sp_pa.min() > 40000  # hPa converted to Pa
    assert 0.1 < f.pwat.min() and f.pwat.max() < 70  # README: 0.14..64.4 kg m-2 over all days
    with pytest.raises(PocketvoxError, match="time index"):
        read_climate(climate_dir / "grads_model.nc", time_index=9)


def test_bad_files(tmp_path):
    (tmp_path / "e.nc").write_bytes(b"")
    (tmp_path / "junk.nc").write_bytes(b"\x00\x01garbage" * 50)
    (tmp_path / "junk.grib2").write_bytes(b"GRIB but not really")
    (tmp_path / "x.txt").write_text("x")
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(tmp_path / "novars.nc")
    for name, msg in (("e.nc", "empty"), ("junk.nc", "NetCDF"), ("junk.grib2", "junk.grib2"),
                      ("x.txt", "unknown climate format"), ("novars.nc", "missing variables"),
                      ("absent.nc", "no such")):
        with pytest.raises(InputFileError, match=msg):
            read_climate(tmp_path / name)


# ------------------------------------------------------------------ network
def _random_inputs(ny, nx, lev=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 6, lev, ny, nx, generator=g)
    x[:, -1] = torch.log(torch.rand(1, lev, ny, nx, generator=g) * 0.02 + 1e-4)  # log q_sat
    dp = torch.rand(1, lev, ny, nx, generator=g) * 15000
    return x, dp


@pytest.mark.parametrize("periodic,vertical", [(True, "conv"), (False, "gru")])
def test_tiled_equals_untiled(periodic, vertical):
    torch.manual_seed(1)
    net = build_pw_net(6, 7, width=8, hidden=8, n_hconv=3, vertical=vertical, periodic_x=periodic).eval()
    x, dp = _random_inputs(46, 72)
    with torch.no_grad():
        full = net(x, dp)
    tiled = tiled_predict(net, x, dp, tile=(10, 16))
    assert float((full - tiled).abs().max()) < 1e-5
    if periodic:
        # circular in longitude: shifting the input shifts the output (no seam at 0°)
        with torch.no_grad():
            rolled = net(torch.roll(x, 11, dims=-1), torch.roll(dp, 11, dims=-1))
        assert float((rolled - torch.roll(full, 11, dims=-1)).abs().max()) < 1e-5
    else:
        with torch.no_grad():
            rolled = net(torch.roll(x, 11, dims=-1), torch.roll(dp, 11, dims=-1))
        assert float((rolled - torch.roll(full, 11, dims=-1)).abs().max()) > 1e-4  # edges differ


def test_physics_layer_is_a_fixed_column_integral():
    net = build_pw_net(6, 7, width=4, hidden=4, n_hconv=1).eval()
    assert sum(p.numel() for p in net.integral.parameters()) == 0
    x, dp = _random_inputs(9, 11)
    with torch.no_grad():
        q = net.humidity(x)
        pw = net(x, dp)
    assert q.min() >= 0 and bool((q <= torch.exp(x[:, -1]) + 1e-9).all())
    torch.testing.assert_close(pw, (q * dp).sum(1) / G)
    dp0 = dp.clone()
    dp0[:, 3:] = 0  # layers under the ground (Δp = 0) contribute nothing
    with torch.no_grad():
        torch.testing.assert_close(net(x, dp0), (q[:, :3] * dp[:, :3]).sum(1) / G)


def test_training_fits_a_real_field_and_cli_infer(climate_dir, tmp_path):
    ad = ClimateAdapter()
    f, x, dp, y = ad.load(climate_dir / f"{NAM07}.nc")
    assert x.shape == (6, 19, 65, 93) and np.isfinite(x).all()
    sl = (slice(None), slice(None), slice(10, 42), slice(30, 62))  # a 32×32 crop keeps this fast
    xt = torch.from_numpy(x[sl])[None]
    dt = torch.from_numpy(dp[sl[1:]])[None]
    yt = torch.from_numpy(y[sl[2:]])[None]
    net = build_pw_net(6, 19, width=8, hidden=8, n_hconv=1)
    hist = train_pw_net(net, xt, dt, yt, steps=60, lr=5e-3)
    assert hist[-1] < 0.5 * hist[0]
    save_pw_net(tmp_path / "pw.pt", net)
    from pocketvox.cli.main import main

    def cli(args):
        try:
            main(args)
        except SystemExit as e:
            return int(e.code or 0)
        return 0

    assert cli(["infer", str(climate_dir / f"{NAM18}.nc"), "-o", str(tmp_path / "out.nc"),
                "--model", str(tmp_path / "pw.pt"), "--write-q", "--tile", "24"]) == 0
    ds = xr.open_dataset(tmp_path / "out.nc")
    assert ds["pwat"].shape == (65, 93) and ds["pwat"].attrs["units"] == "kg m-2"
    assert ds["q"].shape == (19, 65, 93) and float(ds["q"].min()) >= 0
    f18, x18, dp18, _ = ad.load(climate_dir / f"{NAM18}.nc")
    model = load_pw_net(tmp_path / "pw.pt")
    with torch.no_grad():
        ref = model(torch.from_numpy(x18)[None], torch.from_numpy(dp18)[None])[0].numpy()
    np.testing.assert_allclose(ds["pwat"].values, ref, atol=1e-4)
    (tmp_path / "bad.nc").write_text("nope")
    assert cli(["infer", str(tmp_path / "bad.nc"), "-o", str(tmp_path / "b.nc"), "--model",
                str(tmp_path / "pw.pt")]) == 2
    assert cli(["infer", str(climate_dir / f"{NAM18}.nc"), "-o", str(tmp_path / "b.nc"), "--model",
                str(tmp_path / "bad.nc")]) == 2


def test_features_have_physical_content(climate_dir):
    f = read_climate(climate_dir / f"{NAM18}.nc")
    x, dp = column_features(f)
    qhyp, qsat = x[3], np.exp(x[-1])
    # the thickness-implied humidity at 850 hPa tracks the true humidity (from RH) in September
    rh = xr.open_dataset(climate_dir / f"{NAM18}.nc")["r"].values[3]
    q850 = rh / 100 * qsat[3]
    above = dp[3] > 0
    assert np.corrcoef(qhyp[3][above], q850[above])[0, 1] > 0.8


def test_core_trainer_trains_pw_net_through_the_model_hook(climate_dir, tmp_path):
    """`pocketvox train` with adapter = 'climate': the core trainer builds the adapter's PWNet (physics
    layer included), checkpoints it, and `infer` / `evaluate` read the core checkpoint."""
    from pocketvox.cli.main import main
    from pocketvox.volume.adapter import get_adapter
    from pocketvox.volume.trainer import TrainConfig, train

    src = climate_dir / f"{NAM07}.nc"
    ad = get_adapter("climate", train=str(src), val=str(src), width=4, hidden=4, repeat=2)
    ds = ad.datasets()
    item = ds["train"][0]
    assert item["inputs"].shape == (7, 19, 65, 93) and item["targets"].shape == (1, 1, 65, 93)
    net = ad.build_model(None, ds["train"])
    with torch.no_grad():
        out = net(item["inputs"][None])
    assert out.shape == (1, 1, 1, 65, 93)
    torch.testing.assert_close(out[0, 0, 0], net(item["inputs"][None, :-1], item["inputs"][None, -1])[0])
    cfg = TrainConfig(adapter="climate", out_dir=str(tmp_path / "run"), epochs=6, batch_size=1, lr=5e-3,
                      weight_decay=0.0, grad_clip=0.0, device="cpu", loss="auto")
    res = train(cfg, adapter=ad, progress=False)
    rows = [json.loads(ln) for ln in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert res["epochs_run"] == 6 and rows[-1]["val_rmse"] < rows[0]["val_rmse"]
    model = load_pw_net(tmp_path / "run" / "best.pt")
    assert sum(p.numel() for p in model.integral.parameters()) == 0
    with torch.no_grad():
        ref = model(item["inputs"][None, :-1], item["inputs"][None, -1])[0].numpy()
    assert abs(float(np.sqrt(np.mean((ref - ds["val"].items[0][3]) ** 2))) - res["best"]["rmse"]) < 1e-3

    def cli(args):
        try:
            main(args)
        except SystemExit as e:
            return int(e.code or 0)
        return 0

    assert cli(["infer", str(src), "-o", str(tmp_path / "pw.nc"), "--model", str(tmp_path / "run" / "best.pt")]) == 0
    np.testing.assert_allclose(xr.open_dataset(tmp_path / "pw.nc")["pwat"].values, ref, atol=1e-4)
    assert cli(["evaluate", str(src), "--model", str(tmp_path / "run" / "best.pt"), "--format", "json",
                "-o", str(tmp_path / "ev.json")]) == 0
    ev = json.loads((tmp_path / "ev.json").read_text())["files"][src.name]
    assert abs(ev["model"]["rmse"] - res["best"]["rmse"]) < 1e-3
    assert ev["linear_regression"]["rmse"] < 2.0  # fitted and scored on the same field (3.3 on 2018)


def test_climate_adapter_needs_training_files():
    with pytest.raises(PocketvoxError, match="train"):
        ClimateAdapter().datasets()
