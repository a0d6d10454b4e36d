"""GPU check for screening (< 1 min): torch CUDA map sampling equals the NumPy path, and its speed.

    .venv/bin/python benchmarks/gpu_screening.py

Prints the largest difference between ``--device cuda`` and CPU sampling on 2 million random points
in a (6, 48, 48, 48) map, and points per second for both.
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


if __name__ == "__main__":
    main()
