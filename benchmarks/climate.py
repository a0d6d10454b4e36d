"""Precipitable water: train on the 2007 NAM file, test on the 2018 one; model vs linear regression.

    python benchmarks/climate.py [--steps 250] [--threads 1] [--save runs/climate_pw/model.pt]

Prints RMSE / correlation / bias against the file's ``pwat`` for the PW network (physics layer) and a
scikit-learn linear regression on the same column features, the tiled-vs-untiled max difference on
the periodic global grid, and CPU inference throughput (grid points × levels per second).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pocketvox.adapters.climate import (
    ClimateAdapter,
    build_pw_net,
    linear_baseline_features,
    save_pw_net,
    tiled_predict,
    train_pw_net,
)

ROOT = Path(__file__).resolve().parents[1]
CLIM = ROOT.parent / "shared" / "data" / "volumes" / "climate"


def scores(p, y):
    p, y = np.ravel(p), np.ravel(y)
    return {"rmse": round(float(np.sqrt(np.mean((p - y) ** 2))), 3),
            "corr": round(float(np.corrcoef(p, y)[0, 1]), 4), "bias": round(float(np.mean(p - y)), 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--n-hconv", type=int, default=1)
    ap.add_argument("--vertical", default="conv")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ad = ClimateAdapter()
    _, x7, dp7, y7 = ad.load(CLIM / "fh.0012_tl.press_gr.awp211.nc")
    _, x8, dp8, y8 = ad.load(CLIM / "nam.t00z.awp21100.tm00.nc")
    out = {}
    lr = make_pipeline(StandardScaler(), LinearRegression()).fit(linear_baseline_features(x7, dp7), y7.ravel())
    out["linear_regression"] = scores(lr.predict(linear_baseline_features(x8, dp8)), y8)
    net = build_pw_net(x7.shape[0], x7.shape[1], width=a.width, hidden=16, n_hconv=a.n_hconv,
                       vertical=a.vertical, norm="train")
    t0 = time.time()
    train_pw_net(net, torch.from_numpy(x7)[None], torch.from_numpy(dp7)[None], torch.from_numpy(y7)[None],
                 steps=a.steps, seed=a.seed, progress=True)
    out["train_seconds"] = round(time.time() - t0, 1)
    x8t, dp8t = torch.from_numpy(x8)[None], torch.from_numpy(dp8)[None]
    with torch.no_grad():
        net(x8t, dp8t)
        t0 = time.time()
        pw = net(x8t, dp8t)[0].numpy()
        dt = time.time() - t0
    out["pw_net"] = scores(pw, y8)
    out["infer_voxels_per_s"] = round(x8.shape[1] * x8.shape[2] * x8.shape[3] / dt)
    # exact tiling, periodic in longitude, on the global grid (network weights as trained on NAM levels
    # do not apply to 7 levels: a fresh network of the same design checks the decomposition)
    _, xg, dpg, _ = ad.load(CLIM / "grads_model.nc")
    g = build_pw_net(xg.shape[0], xg.shape[1], width=a.width, hidden=16, n_hconv=3, vertical=a.vertical,
                     periodic_x=True).eval()
    xgt, dpgt = torch.from_numpy(xg)[None], torch.from_numpy(dpg)[None]
    with torch.no_grad():
        full = g(xgt, dpgt)
    out["tiled_vs_untiled_max_abs_diff_global"] = float((tiled_predict(g, xgt, dpgt, (12, 20)) - full).abs().max())
    out["tiled_vs_untiled_max_abs_diff_nam"] = float((tiled_predict(net, x8t, dp8t, (20, 24))
                                                      - torch.from_numpy(pw)[None]).abs().max())
    out["config"] = vars(a)
    if a.save:
        save_pw_net(a.save, net, extra={"train": "fh.0012_tl.press_gr.awp211.nc", "scores_2018": out["pw_net"]})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
