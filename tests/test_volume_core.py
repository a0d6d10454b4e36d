"""Volume core: U-Net, losses, metrics, tiling, checkpoints, trainer (resume, DDP), import graph."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pocketvox.volume import losses, metrics  # noqa: E402
from pocketvox.volume.io import load_checkpoint, save_checkpoint  # noqa: E402
from pocketvox.volume.tiling import tiled_apply  # noqa: E402
from pocketvox.volume.trainer import TrainConfig, load_config_file, train  # noqa: E402
from pocketvox.volume.unet import UNet3D  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("shape", [(16, 16, 16), (13, 17, 9), (8, 8, 24)])
def test_unet_shapes_any_size(shape):
    net = UNet3D(in_channels=3, out_channels=2, width=4, depth=2).eval()
    out = net(torch.randn(2, 3, *shape))
    assert out.shape == (2, 2, *shape)


def test_unet_receptive_radius_bounds_influence():
    torch.manual_seed(0)
    net = UNet3D(in_channels=1, out_channels=2, width=8, depth=2, norm="none").eval()
    x = torch.randn(1, 1, 72, 4, 4, requires_grad=True)
    net(x)[0, :, 36, 2, 2].sum().backward()
    reach = torch.nonzero(x.grad[0, 0].abs().sum((1, 2))).flatten()
    assert 36 - reach.min().item() <= net.receptive_radius
    assert reach.max().item() - 36 <= net.receptive_radius
    assert 36 - reach.min().item() > 4  # the bound is not vacuous: context reaches beyond a few voxels


def test_unet_rejects_wrong_rank():
    with pytest.raises(ValueError):
        UNet3D(in_channels=1, out_channels=1, depth=1)(torch.zeros(1, 8, 8, 8))


@pytest.mark.parametrize("norm", ["batch", "none"])
def test_tiled_equals_untiled(norm):
    torch.manual_seed(0)
    net = UNet3D(in_channels=2, out_channels=3, width=4, depth=1, norm=norm)
    if norm == "batch":  # non-trivial running statistics
        net.train()
        for _ in range(3):
            net(torch.randn(2, 2, 8, 8, 8) * 2 + 1)
    net.eval()
    x = torch.randn(1, 2, 41, 30, 19)
    with torch.no_grad():
        full = net(x)
    tiled = tiled_apply(net, x, tile=16)
    assert tiled.shape == full.shape
    assert float((tiled - full).abs().max()) < 1e-5
    # a halo smaller than the receptive field does change the result: the test can fail
    short = tiled_apply(net, x, tile=16, halo=2)
    assert float((short - full).abs().max()) > 1e-4


def test_bce_jaccard_prefers_correct_logits():
    t = torch.zeros(1, 2, 8, 8, 8)
    t[:, 0, 2:4, 2:4, 2:4] = 1
    good = (t * 2 - 1) * 20
    bad = -good
    assert losses.bce_jaccard_loss(good, t, pos_weight=5.0) < 0.05
    assert losses.bce_jaccard_loss(bad, t, pos_weight=5.0) > 1.0
    # the mask removes voxels from the loss
    m = torch.zeros(1, 1, 8, 8, 8)
    assert float(losses.bce_jaccard_loss(bad, t, m, jaccard_weight=0.0)) == 0.0


def test_soft_jaccard_matches_hard_for_binary():
    rng = np.random.default_rng(0)
    p = torch.from_numpy(rng.random((1, 1, 6, 6, 6)) > 0.5).float()
    t = torch.from_numpy(rng.random((1, 1, 6, 6, 6)) > 0.5).float()
    soft = losses.soft_jaccard(p, t, smooth=0.0)[0].item()
    assert soft == pytest.approx(metrics.jaccard(p.numpy(), t.numpy()), abs=1e-6)


def test_dice_ce_and_mse():
    idx = torch.randint(0, 3, (2, 6, 6, 6))
    logits = torch.nn.functional.one_hot(idx, 3).permute(0, 4, 1, 2, 3).float() * 10
    assert losses.dice_ce_loss(logits, idx) < 0.01
    assert losses.dice_ce_loss(-logits, idx) > 1.0
    x = torch.ones(1, 2, 4, 4, 4)
    assert float(losses.masked_mse_loss(x, torch.zeros_like(x))) == pytest.approx(1.0)


def test_metrics_values_and_ap_against_sklearn():
    from sklearn.metrics import average_precision_score

    p = np.array([1, 1, 0, 0, 1], bool)
    t = np.array([1, 0, 1, 0, 1], bool)
    assert metrics.jaccard(p, t) == pytest.approx(2 / 4)
    assert metrics.dice(p, t) == pytest.approx(4 / 6)
    assert metrics.precision(p, t) == pytest.approx(2 / 3)
    assert metrics.recall(p, t) == pytest.approx(2 / 3)
    rng = np.random.default_rng(1)
    s = rng.random(5000)
    y = rng.random(5000) < s * 0.3
    assert metrics.average_precision(s, y) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    s2 = np.round(s, 1)  # ties
    assert metrics.average_precision(s2, y) == pytest.approx(average_precision_score(y, s2), abs=1e-12)
    h = metrics.ScoreHistogram(1, bins=1000)
    h.update(s[None], y[None])
    assert h.average_precision()[0] == pytest.approx(average_precision_score(y, s), abs=5e-3)
    th = h.best_thresholds()[0]
    at = h.at([th])[0]
    assert at["jaccard"] == pytest.approx(metrics.jaccard(s >= th, y), abs=1e-9)


def test_checkpoint_roundtrip_weights_only(tmp_path):
    net = UNet3D(in_channels=1, out_channels=1, width=4, depth=1)
    path = save_checkpoint({"model": net.state_dict(), "meta": {"names": ["a"], "nested": {"x": [1, 2]}}},
                           tmp_path / "m.pt")
    raw = torch.load(path, weights_only=True)
    assert set(raw["model"]) == set(net.state_dict())
    ck = load_checkpoint(path)
    assert ck["meta"]["nested"]["x"] == [1, 2]
    from pocketvox.errors import ModelError

    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="bad.pt"):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(ModelError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt")


def _cfg(out, **kw):
    base = dict(adapter="synthetic", out_dir=str(out), epochs=3, batch_size=4, width=4, depth=1, lr=0.01,
                dropout=0.1, threads=1, adapter_options={"n_train": 8, "n_val": 4, "size": 12})
    base.update(kw)
    return TrainConfig.from_dict(base)


def test_trainer_logs_checkpoints_and_exact_resume(tmp_path):
    full = train(_cfg(tmp_path / "full"), progress=False)
    assert full["epochs_run"] == 3
    rows = [json.loads(ln) for ln in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert "core_a" in rows[-1] and 0.0 <= rows[-1]["val_mean_jaccard"] <= 1.0
    csv_text = (tmp_path / "full" / "metrics.csv").read_text()
    assert csv_text.startswith("epoch,") and len(csv_text.strip().splitlines()) == 4
    best = load_checkpoint(tmp_path / "full" / "best.pt")
    assert best["meta"]["channel_names"] == ["blob_a", "blob_b"]
    assert len(best["meta"]["thresholds"]) == 2
    # a crash after epoch 2 (index 1), then --resume: identical weights to the uninterrupted run
    def crash(epoch, row):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tmp_path / "part"), progress=False, on_epoch_end=crash)
    train(_cfg(tmp_path / "part", resume=True), progress=False)
    a = load_checkpoint(tmp_path / "full" / "last.pt")["model"]
    b = load_checkpoint(tmp_path / "part" / "last.pt")["model"]
    assert max(float((a[k].float() - b[k].float()).abs().max()) for k in a) == 0.0
    rows_b = [json.loads(ln) for ln in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows_b] == [0, 1, 2]


def test_config_files_and_unknown_keys(tmp_path):
    from pocketvox.errors import InputFileError, PocketvoxError

    (tmp_path / "c.toml").write_text('epochs = 2\n[model]\nwidth = 8\n[adapter]\nname = "synthetic"\nsize = 12\n')
    d = load_config_file(tmp_path / "c.toml")
    assert d == {"epochs": 2, "width": 8, "adapter": "synthetic", "adapter_options": {"size": 12}}
    (tmp_path / "c.yaml").write_text("epochs: 2\nadapter:\n  name: synthetic\n  size: 12\n")
    assert load_config_file(tmp_path / "c.yaml")["adapter_options"] == {"size": 12}
    (tmp_path / "bad.toml").write_text("epochs = = 2")
    with pytest.raises(InputFileError, match="bad.toml"):
        load_config_file(tmp_path / "bad.toml")
    with pytest.raises(PocketvoxError, match="nonsense"):
        TrainConfig.from_dict({"nonsense": 1})


def test_volume_imports_nothing_domain_specific():
    code = (
        "import sys, pkgutil, importlib, pocketvox.volume as v\n"
        "for m in pkgutil.iter_modules(v.__path__):\n"
        "    importlib.import_module('pocketvox.volume.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('rdkit', 'gemmi', 'nibabel', 'pydicom', 'xarray',"
        " 'netCDF4', 'cfgrib', 'SimpleITK', 'Bio') or m.startswith(('pocketvox.structure', 'pocketvox.interactions',"
        " 'pocketvox.grid', 'pocketvox.adapters', 'pocketvox.apps', 'pocketvox.cli'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_ddp_two_cpu_processes_gloo(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('epochs = 2\nbatch_size = 2\nwidth = 4\ndepth = 1\n[adapter]\nname = "synthetic"\n'
                   'n_train = 8\nn_val = 2\nsize = 12\n')
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "pocketvox.cli.main", "train", "--config", str(cfg), "--out-dir", str(tmp_path / "run"),
         "--quiet", "--device", "cpu"],
        capture_output=True, text=True, env=env, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(ln) for ln in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1]
    assert rows[0]["world_size"] == 2
    assert load_checkpoint(tmp_path / "run" / "best.pt")["meta"]["config"]["epochs"] == 2


def test_per_class_pos_weight():
    t = torch.zeros(1, 2, 4, 4, 4)
    t[:, :, 0, 0, 0] = 1
    logits = torch.zeros(1, 2, 4, 4, 4)
    one = losses.make_loss({"name": "bce_jaccard", "pos_weight": 5.0, "jaccard_weight": 0.0})(logits, t)
    per = losses.make_loss({"name": "bce_jaccard", "pos_weight": [5.0, 50.0], "jaccard_weight": 0.0})(logits, t)
    assert float(per) > float(one)  # the rare class's missed positive costs more
