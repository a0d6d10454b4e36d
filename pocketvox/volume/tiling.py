"""Tiled inference with halos: predictions of volumes larger than memory allows, equal to untiled.

The volume is cut into cores of ``tile`` voxels per axis; each core is extended by a halo of at least
the network's receptive radius (clipped at the volume border, never zero-padded beyond it), run
through the network, and only the core is kept. Starts are multiples of ``multiple`` (``2**depth``
for a U-Net) so pooling windows line up with the untiled run. With a network whose output voxel
depends only on inputs within the radius (U-Net with batch norm in eval mode or no norm), tiled and
untiled outputs agree to float rounding. Peak memory is bounded by one ``(tile + 2·halo)³`` tile.
"""

from __future__ import annotations

import itertools
import math

import torch


def _round_up(v: int, m: int) -> int:
    return int(math.ceil(v / m) * m)


def tile_starts(n: int, core: int) -> list[tuple[int, int]]:
    """Core intervals ``[(lo, hi), ...]`` covering ``range(n)``."""
    return [(lo, min(lo + core, n)) for lo in range(0, n, core)]


@torch.no_grad()
def tiled_apply(fn, volume: torch.Tensor, tile: int = 64, halo: int | None = None, multiple: int = 1,
                out_device: torch.device | str | None = None, progress: bool = False) -> torch.Tensor:
    """Apply ``fn`` ((B, C, x, y, z) → (B, K, x, y, z)) to ``volume`` (B, C, X, Y, Z) tile by tile.

    tile : core size in voxels (rounded up to ``multiple``)
    halo : voxels of context on each side (default: ``fn.receptive_radius`` if ``fn`` has it);
        rounded up to ``multiple``
    multiple : alignment of tile starts (``fn.multiple`` if ``fn`` has it)
    out_device : where the assembled output lives (default: the input's device); tiles run on the
        input's device, so a CPU-resident volume can be streamed through a GPU tile by tile.
    Returns (B, K, X, Y, Z) on ``out_device``.
    """
    if volume.dim() != 5:
        raise ValueError(f"expected (B, C, X, Y, Z), got {tuple(volume.shape)}")
    multiple = max(int(getattr(fn, "multiple", multiple) or 1), multiple)
    if halo is None:
        halo = int(getattr(fn, "receptive_radius", 0))
    halo = _round_up(halo, multiple)
    core = _round_up(max(tile, 1), multiple)
    shape = volume.shape[2:]
    out = None
    ranges = [tile_starts(n, core) for n in shape]
    combos = list(itertools.product(*ranges))
    it = combos
    if progress:
        from tqdm import tqdm

        it = tqdm(combos, desc="tiles", unit="tile")
    for (x0, x1), (y0, y1), (z0, z1) in it:
        lo = [max(a - halo, 0) for a in (x0, y0, z0)]
        hi = [min(b + halo, n) for b, n in zip((x1, y1, z1), shape)]
        piece = volume[:, :, lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        res = fn(piece)
        if out is None:
            out = torch.empty((volume.shape[0], res.shape[1], *shape), dtype=res.dtype,
                              device=out_device if out_device is not None else volume.device)
        sx, sy, sz = x0 - lo[0], y0 - lo[1], z0 - lo[2]
        out[:, :, x0:x1, y0:y1, z0:z1] = res[:, :, sx:sx + x1 - x0, sy:sy + y1 - y0, sz:sz + z1 - z0].to(out.device)
    return out
