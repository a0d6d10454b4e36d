"""Tiled vs untiled inference, max |difference|, for the medical and climate models (CPU).

    python benchmarks/domains_tiling.py --medical runs/medical_gpu/best.pt --climate runs/climate_pw/best.pt

Medical: a 128³ crop of the MNI152 T1 through the U-Net, untiled and with 48-voxel tiles (logits).
Climate: the 2018 NAM field through the PW network, untiled and with 20×24-column tiles (kg m-2).
Also inference throughput of each (voxels or grid points × levels per second, untiled pass).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
VOL = ROOT.parent / "shared" / "data" / "volumes"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--medical", default="runs/medical_gpu/best.pt")
    ap.add_argument("--climate", default="runs/climate_pw/best.pt")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = {"threads": a.threads}
    from pocketvox.adapters.medical import read_image
    from pocketvox.cli.domains import load_segmenter
    from pocketvox.volume.tiling import tiled_apply

    model, ad = load_segmenter(a.medical)
    x, _, _ = ad.prepare(read_image(VOL / "medical" / "mni152" / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"))
    crop = torch.from_numpy(x[:, 30:158, 50:178, 30:158].copy())[None]
    with torch.no_grad():
        t0 = time.time()
        full = model(crop)
        dt = time.time() - t0
    tiled = tiled_apply(model, crop, tile=48)
    out["medical"] = {"crop": list(crop.shape[2:]), "tile": 48,
                      "max_abs_diff_logits": float((full - tiled).abs().max()),
                      "argmax_equal": bool(torch.equal(full.argmax(1), tiled.argmax(1))),
                      "untiled_voxels_per_s": round(crop[0, 0].numel() / dt)}

    from pocketvox.adapters.climate import ClimateAdapter, load_pw_net, tiled_predict

    net = load_pw_net(a.climate)
    _, xc, dp, _ = ClimateAdapter().load(VOL / "climate" / "nam.t00z.awp21100.tm00.nc")
    xt, dt_ = torch.from_numpy(xc)[None], torch.from_numpy(dp)[None]
    with torch.no_grad():
        net(xt, dt_)
        t0 = time.time()
        full = net(xt, dt_)
        dt = time.time() - t0
    tiled = tiled_predict(net, xt, dt_, (20, 24))
    out["climate"] = {"grid": list(xc.shape[1:]), "tile": [20, 24],
                      "max_abs_diff_kg_m2": float((full - tiled).abs().max()),
                      "untiled_points_x_levels_per_s": round(xc[0].size / dt)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
