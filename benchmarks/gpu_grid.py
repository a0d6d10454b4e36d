"""Batched density grids on CUDA: grids per second, and the same grids as the CPU (numba) kernel.

Inputs: PoseBusters complexes when ../shared is present (typed with pocketvox), else synthetic
protein-like atom sets (same density of heavy atoms as a protein, ~0.05 Å⁻³). Each batch holds B
random rotations (uniform over SO(3)) of complexes, gridded at 24 Å with 16 channels, at 1.0 Å
(24³) and 0.5 Å (48³). Prints a summary and, if $OUT is set, writes $OUT/gpu_grid.json.
Runs in well under two minutes on one GPU:

    python benchmarks/gpu_grid.py [--batches 16,64] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POCKETVOX_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT))


def _inputs(k: int):
    """k (TypedAtoms-like tuple, center) pairs."""
    from pocketvox.grid.channels import type_atoms
    from pocketvox.grid.voxelize import default_spec

    out = []
    pb = SHARED / "data" / "posebusters"
    if pb.exists():
        from pocketvox.structure import load_complex

        for d in sorted(p for p in pb.iterdir() if p.is_dir())[: 3 * k]:
            try:
                cx = load_complex(d / f"{d.name}_protein.pdb", ligand_file=d / f"{d.name}_ligand.sdf")
            except Exception:  # noqa: BLE001 - benchmark input, skip unreadable
                continue
            ta = type_atoms(cx.protein, cx.ligand)
            out.append(((ta.coords, ta.radii, ta.types), default_spec(cx).center_array))
            if len(out) == k:
                return out, "posebusters"
    rng = np.random.default_rng(0)
    for _ in range(k - len(out)):
        n = int(0.05 * 40**3)  # a 40 Å cube of protein-like density around the box
        x = rng.uniform(-20, 20, (n, 3)).astype(np.float32)
        r = rng.choice(np.array([1.7, 1.55, 1.52, 1.8], np.float32), n)
        t = np.zeros((n, 16), bool)
        t[:, 7] = True
        t[:, :7] = rng.random((n, 7)) < 0.2
        out.append(((x, r, t), np.zeros(3)))
    return out, "synthetic"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="16,64")
    ap.add_argument("--resolutions", default="1.0,0.5")
    ap.add_argument("--seconds", type=float, default=5.0, help="timing budget per configuration")
    ap.add_argument("--complexes", type=int, default=8)
    a = ap.parse_args()

    import torch

    from pocketvox.grid.augment import random_rotation
    from pocketvox.grid.kernels import grid_density
    from pocketvox.grid.spec import GridSpec
    from pocketvox.grid.torch_kernels import grid_density_torch, pad_batch, rigid_transform_torch

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if dev == "cuda" else platform.processor() or "cpu"
    t0 = time.perf_counter()
    items, source = _inputs(a.complexes)
    print(f"device {dev} ({name}); {len(items)} {source} complexes loaded in {time.perf_counter() - t0:.1f} s")
    coords, radii, types = pad_batch([s for s, _ in items], device=dev)
    centers_all = torch.tensor(np.array([c for _, c in items]), dtype=torch.float32, device=dev)
    rng = np.random.default_rng(1)
    report = {"device": dev, "device_name": name, "inputs": source, "torch": torch.__version__, "runs": []}
    for res in [float(r) for r in a.resolutions.split(",")]:
        n = GridSpec((0, 0, 0), 24.0, res).n
        for b in [int(x) for x in a.batches.split(",")]:
            sel = torch.as_tensor(rng.integers(0, len(items), b), device=dev)
            rots = torch.as_tensor(random_rotation(rng, size=b), dtype=torch.float32, device=dev)
            ctr = centers_all[sel]

            def make(sel=sel, rots=rots, ctr=ctr, n=n, res=res):
                x = rigid_transform_torch(coords[sel], rots, None, ctr)
                return grid_density_torch(x, radii[sel], types[sel], ctr, n, res)

            g = make()  # warm-up (and allocator)
            if dev == "cuda":
                torch.cuda.synchronize()
            calls, t1 = 0, time.perf_counter()
            while time.perf_counter() - t1 < a.seconds or calls < 3:
                g = make()
                calls += 1
                if dev == "cuda":
                    torch.cuda.synchronize()
            dt = (time.perf_counter() - t1) / calls
            # same grids on the CPU kernel, for 4 items of the batch
            diffs = []
            for i in range(min(4, b)):
                ci = int(sel[i])
                x, r, t = items[ci][0]
                xr = rigid_transform_torch(torch.as_tensor(x)[None], rots[i : i + 1].cpu(), None,
                                           centers_all[ci].cpu())[0].numpy()
                ref = grid_density(xr, r, t, GridSpec(tuple(items[ci][1]), 24.0, res))
                diffs.append(float(np.abs(g[i].cpu().numpy() - ref).max()))
            run = {"resolution": res, "points": n, "batch": b, "channels": int(g.shape[1]),
                   "grids_per_s": round(b / dt, 1), "ms_per_batch": round(1000 * dt, 2),
                   "max_abs_diff_vs_cpu": max(diffs),
                   "peak_mem_mb": round(torch.cuda.max_memory_allocated() / 2**20) if dev == "cuda" else None}
            report["runs"].append(run)
            print(f"res {res} Å ({n}³ x {g.shape[1]} ch) batch {b:>3}: {b / dt:8.1f} grids/s "
                  f"({1000 * dt:.1f} ms/batch), max |GPU - CPU| = {max(diffs):.2e}")
    out = os.environ.get("OUT")
    if out:
        Path(out, "gpu_grid.json").write_text(json.dumps(report, indent=1))
        print(f"wrote {out}/gpu_grid.json")


if __name__ == "__main__":
    main()
