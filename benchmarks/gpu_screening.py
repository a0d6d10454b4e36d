"""GPU check for screening (< 2 min): torch CUDA map sampling equals the NumPy path, and its speed;
``--rescore cnn`` on the GPU equals the CPU and its poses per second.

    .venv/bin/python benchmarks/gpu_screening.py [--model M.pt] [--cnn-poses 400]

Prints the largest difference between ``--device cuda`` and CPU sampling on 2 million random points
in a (6, 48, 48, 48) map, and points per second for both. Then rescores the first DEKOIS AChE poses
with the complex-mode network on CPU (first 16 poses) and CUDA (``--cnn-poses``, batches of 32):
largest term difference on the common poses and poses per second on each device.
"""

from __future__ import annotations

import time

import numpy as np


def main():
    import torch

    from pocketvox.apps.screen_score import PocketMaps, _trilinear_torch, trilinear

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    rng = np.random.default_rng(0)
    maps = PocketMaps(rng.random((6, 48, 48, 48)).astype(np.float32), np.zeros(3), 0.5,
                      tuple(f"c{k}" for k in range(6)), np.zeros((1, 3)), np.ones(1))
    n = 2_000_000
    xyz = rng.uniform(-2, 26, (n, 3))
    cls = rng.integers(0, 6, n)
    t = time.perf_counter()
    ref = trilinear(maps.probs, maps.origin, maps.resolution, cls, xyz)
    t_cpu = time.perf_counter() - t
    _trilinear_torch(maps, cls[:1000], xyz[:1000], "cuda")  # warm-up, maps to the device
    torch.cuda.synchronize()
    t = time.perf_counter()
    got = _trilinear_torch(maps, cls, xyz, "cuda")
    torch.cuda.synchronize()
    t_gpu = time.perf_counter() - t
    print(f"device {torch.cuda.get_device_name()}; max |cuda - cpu| = {np.abs(got - ref).max():.3e}")
    print(f"cpu {n / t_cpu:,.0f} points/s, cuda {n / t_gpu:,.0f} points/s (incl. transfers)")
    assert np.allclose(got, ref, atol=1e-9), "CUDA sampling differs from the CPU path"
    cnn_check()


def cnn_check():
    import argparse
    import gzip
    import os
    from pathlib import Path

    from pocketvox.apps.screen_cnn import cnn_rescorer
    from pocketvox.apps.screen_read import iter_chunks, type_chunk

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--cnn-poses", type=int, default=400)
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    shared = Path(os.environ.get("POCKETVOX_SHARED", root.parent / "shared"))
    rec = shared / "data" / "plip" / "pdb" / "1eve.pdb"
    poses = shared / "data" / "screening" / "dekois_ache" / "poses.sdf.gz"
    if not poses.exists():
        print(f"# cnn check skipped: no {poses}")
        return
    import tempfile

    raw = gzip.open(poses).read().split(b"$$$$\n")[: args.cnn_poses]
    with tempfile.TemporaryDirectory() as d:
        lib = Path(d) / "p.sdf"
        lib.write_bytes(b"$$$$\n".join(raw) + b"$$$$\n")
        batch = type_chunk(next(iter_chunks([lib], args.cnn_poses)))
    n_cpu = 16
    cpu_ok = batch.ok.copy()
    cpu_ok[n_cpu:] = False
    r_cpu = cnn_rescorer(str(rec), ligand="E20:A:2001", model=args.model, device="cpu", batch_size=8)
    t = time.perf_counter()
    ref = r_cpu.terms(batch, cpu_ok)
    t_cpu = time.perf_counter() - t
    r_gpu = cnn_rescorer(str(rec), ligand="E20:A:2001", model=args.model, device="cuda", batch_size=32)
    r_gpu.terms(batch, cpu_ok)  # warm-up
    t = time.perf_counter()
    got = r_gpu.terms(batch, batch.ok)
    t_gpu = time.perf_counter() - t
    diff = np.abs(got[:n_cpu] - ref[:n_cpu]).max()
    print(f"rescore cnn: max |cuda - cpu| term = {diff:.3e} (terms up to {ref[:n_cpu].max():.2f}); "
          f"cpu {cpu_ok.sum() / t_cpu:.1f} poses/s, cuda {batch.ok.sum() / t_gpu:.1f} poses/s")
    assert diff < 1e-2 * max(1.0, ref[:n_cpu].max()), "CUDA rescoring differs from the CPU path"


if __name__ == "__main__":
    main()
