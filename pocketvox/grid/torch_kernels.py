"""Batched density grids in torch (CUDA or CPU): B complexes, or B rotations of one, per call.

Same density as the numba kernel (:mod:`pocketvox.grid.kernels`): every atom writes into the
``w³`` window of points around it that can lie within its cutoff; windows are evaluated as dense
tensors ``(B, atoms, w, w, w)`` and summed into the grid with one ``scatter_add_`` per channel (a
loop over channels, never over atoms or voxels). Atoms are processed in chunks so that the window
tensors stay under ``max_elements``.

On CPU the numba kernel is several times faster; this path exists for the GPU, where a batch of
grids is produced next to the network, and a test checks both give the same grids.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pocketvox.grid.channels import DensityParams

_E2 = math.exp(-2.0)


def pad_batch(samples, device=None):
    """A list of (coords (N_i, 3), radii (N_i,), types (N_i, C)) -> padded tensors
    ``coords (B, N, 3) float32, radii (B, N) float32, types (B, N, C) float32`` with zero radius
    (inert) on padding rows."""
    b = len(samples)
    nmax = max(1, max(len(s[0]) for s in samples))
    c = samples[0][2].shape[1]
    coords = np.zeros((b, nmax, 3), np.float32)
    radii = np.zeros((b, nmax), np.float32)
    types = np.zeros((b, nmax, c), np.float32)
    for i, (x, r, t) in enumerate(samples):
        coords[i, : len(x)] = x
        radii[i, : len(x)] = r
        types[i, : len(x)] = t
    to = {"device": device}
    return torch.as_tensor(coords, **to), torch.as_tensor(radii, **to), torch.as_tensor(types, **to)


def rigid_transform_torch(coords: torch.Tensor, rotations: torch.Tensor, translations: torch.Tensor | None,
                          centers: torch.Tensor) -> torch.Tensor:
    """``x' = R (x - c) + c + t`` per batch item: coords (B, N, 3), rotations (B, 3, 3),
    translations (B, 3) or None, centers (B, 3) or (3,) Å -> (B, N, 3)."""
    c = torch.as_tensor(centers, dtype=coords.dtype, device=coords.device).reshape(-1, 1, 3)
    out = torch.matmul(coords - c, rotations.to(coords).transpose(1, 2)) + c
    if translations is not None:
        out = out + translations.to(coords)[:, None, :]
    return out


def _compact(coords, radii, types, origin, hi, cm):
    """Drop atoms whose cutoff sphere misses their grid: per batch item, move the kept atoms first
    and cut the atom axis to the largest kept count (the rest get radius 0, which is inert)."""
    cut = (radii * cm)[..., None]
    keep = ((coords > origin[:, None] - cut) & (coords < hi[:, None] + cut)).all(-1) & (radii > 0)
    k = int(keep.sum(1).max()) if keep.numel() else 0
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, :k]
    coords = torch.gather(coords, 1, order[..., None].expand(-1, -1, 3))
    radii = torch.gather(radii * keep, 1, order)
    types = torch.gather(types, 1, order[..., None].expand(-1, -1, types.shape[-1]))
    return coords, radii, types


def grid_density_torch(
    coords: torch.Tensor,
    radii: torch.Tensor,
    types: torch.Tensor,
    centers: torch.Tensor,
    n: int,
    resolution: float,
    params: DensityParams | None = None,
    max_elements: int = 1 << 25,
) -> torch.Tensor:
    """Densities for a batch.

    coords : (B, N, 3) Å; radii : (B, N) Å (0 marks padding); types : (B, N, C) channel weights
    (bool or float); centers : (B, 3) or (3,) Å grid centres; ``n`` points per axis at ``resolution``
    Å (see :class:`pocketvox.grid.spec.GridSpec`). Returns (B, C, n, n, n) float32 on coords' device.
    """
    params = params or DensityParams()
    dev = coords.device
    coords = coords.to(torch.float32)
    radii = radii.to(device=dev, dtype=torch.float32) * params.radius_scale
    types = types.to(device=dev, dtype=torch.float32)
    b, na, _ = coords.shape
    c = types.shape[-1]
    centers = torch.as_tensor(centers, dtype=torch.float32, device=dev).reshape(-1, 3).expand(b, 3)
    origin = centers - 0.5 * (n - 1) * resolution  # (B, 3)
    out = torch.zeros(b, c, n * n * n, dtype=torch.float32, device=dev)
    if na == 0 or b == 0:
        return out.view(b, c, n, n, n)
    cm = params.cutoff_multiple
    coords, radii, types = _compact(coords, radii, types, origin, origin + (n - 1) * resolution, cm)
    na = coords.shape[1]
    rmax = float(radii.max()) if radii.numel() else 0.0
    if rmax <= 0:
        return out.view(b, c, n, n, n)
    w = int(2.0 * rmax * cm / resolution) + 2
    t = torch.arange(w, device=dev, dtype=torch.float32)
    chunk = max(1, max_elements // max(1, b * w**3))
    for s in range(0, na, chunk):
        x = coords[:, s : s + chunk]  # (B, A, 3)
        r = radii[:, s : s + chunk]  # (B, A)
        ty = types[:, s : s + chunk]  # (B, A, C)
        cut = r * cm
        first = torch.ceil((x - cut[..., None] - origin[:, None, :]) / resolution)  # (B, A, 3)
        idx = first[..., None] + t  # (B, A, 3, w) point indices along each axis
        d = origin[:, None, :, None] + idx * resolution - x[..., None]
        d2 = d * d
        inside = (idx >= 0) & (idx < n)
        d2sum = d2[:, :, 0, :, None, None] + d2[:, :, 1, None, :, None] + d2[:, :, 2, None, None, :]
        r_ = r[..., None, None, None].clamp_min(1e-6)
        rr = r_ * r_
        xr = torch.sqrt(d2sum) / r_
        if params.binary:
            v = (d2sum < rr).to(torch.float32)
        else:
            v = torch.where(d2sum <= rr, torch.exp(-2.0 * d2sum / rr), _E2 * (2.0 * xr - 3.0) ** 2)
        ok = (d2sum < (r_ * cm) ** 2) & (r[..., None, None, None] > 0)
        ok &= inside[:, :, 0, :, None, None] & inside[:, :, 1, None, :, None] & inside[:, :, 2, None, None, :]
        v = torch.where(ok, v, torch.zeros((), device=dev))
        ii = idx.clamp(0, n - 1).to(torch.int64)
        flat = (ii[:, :, 0, :, None, None] * n + ii[:, :, 1, None, :, None]) * n + ii[:, :, 2, None, None, :]
        flat = flat.reshape(b, -1)
        v = v.reshape(b, x.shape[1], -1)
        for ch in range(c):
            wch = ty[..., ch]
            if not bool((wch != 0).any()):
                continue
            src = (v * wch[..., None]).reshape(b, -1)
            if params.binary:
                out[:, ch].scatter_reduce_(1, flat, src, reduce="amax")
            else:
                out[:, ch].scatter_add_(1, flat, src)
    return out.view(b, c, n, n, n)
