"""A configurable 3D U-Net: ``(B, C, X, Y, Z)`` in, logits ``(B, K, X, Y, Z)`` out.

Every level has two 3×3×3 convolutions (+ normalisation + ReLU); levels are joined by 2× max pooling
on the way down and 2× transposed convolutions on the way up, with skip connections (Ronneberger et
al. 2015; Çiçek et al. 2016 for 3D). Inputs whose spatial size is not a multiple of ``2**depth`` are
zero-padded at the high end and the output is cropped back, so any size works.

Tiled inference (:mod:`pocketvox.volume.tiling`) is exact only when every output voxel depends on a
bounded neighbourhood: use ``norm="batch"`` (running statistics in eval mode) or ``"none"``.
``"instance"`` and ``"group"`` normalise over the whole volume and couple distant voxels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

NORMS = ("batch", "instance", "group", "none")


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of :class:`UNet3D`.

    in_channels, out_channels : C inputs, K output logits
    width : channels of the first level (doubled at each level down)
    depth : number of 2× downsamplings (the input is padded to a multiple of ``2**depth`` voxels)
    norm : 'batch' | 'instance' | 'group' | 'none'
    dropout : dropout probability at the bottleneck (0 disables)
    max_width : cap on the channels of deep levels
    """

    in_channels: int
    out_channels: int
    width: int = 16
    depth: int = 3
    norm: str = "batch"
    dropout: float = 0.0
    max_width: int = 256

    def to_dict(self) -> dict:
        return asdict(self)


def _norm(kind: str, ch: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm3d(ch)
    if kind == "instance":
        return nn.InstanceNorm3d(ch, affine=True)
    if kind == "group":
        return nn.GroupNorm(min(8, ch), ch)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; expected one of {NORMS}")


class _Block(nn.Sequential):
    def __init__(self, cin: int, cout: int, norm: str):
        bias = norm == "none"  # a bias before a normalisation layer is redundant
        super().__init__(
            nn.Conv3d(cin, cout, 3, padding=1, bias=bias), _norm(norm, cout), nn.ReLU(inplace=True),
            nn.Conv3d(cout, cout, 3, padding=1, bias=bias), _norm(norm, cout), nn.ReLU(inplace=True),
        )


class UNet3D(nn.Module):
    """3D U-Net. ``forward(x)``: x (B, C, X, Y, Z) float → logits (B, K, X, Y, Z)."""

    def __init__(self, config: UNetConfig | None = None, **kwargs):
        super().__init__()
        cfg = config if config is not None else UNetConfig(**kwargs)
        if cfg.depth < 0:
            raise ValueError("depth must be >= 0")
        self.config = cfg
        widths = [min(cfg.width * 2**i, cfg.max_width) for i in range(cfg.depth + 1)]
        self.down = nn.ModuleList()
        cin = cfg.in_channels
        for w in widths[:-1]:
            self.down.append(_Block(cin, w, cfg.norm))
            cin = w
        self.bottom = _Block(cin, widths[-1], cfg.norm)
        self.drop = nn.Dropout3d(cfg.dropout) if cfg.dropout > 0 else nn.Identity()
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in reversed(range(cfg.depth)):
            self.up.append(nn.ConvTranspose3d(widths[i + 1], widths[i], 2, stride=2))
            self.dec.append(_Block(2 * widths[i], widths[i], cfg.norm))
        self.head = nn.Conv3d(widths[0], cfg.out_channels, 1)

    @property
    def multiple(self) -> int:
        """Spatial sizes are padded internally to a multiple of this many voxels."""
        return 2**self.config.depth

    @property
    def receptive_radius(self) -> int:
        """Voxels on each side of an output voxel that can influence it (an upper bound).

        Level ``l`` (scale ``2**l``) has two 3×3×3 convolutions on the way down and two on the way up,
        each adding ``2**l`` voxels of reach; the 2× pooling and the transposed convolution add at
        most ``2**l`` each for the alignment of their windows; the bottleneck adds ``2 * 2**depth``.
        """
        d = self.config.depth
        r = sum(6 * 2**lvl for lvl in range(d)) + 2 * 2**d
        return int(r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)

    def run(self, x: torch.Tensor, enter=None, leave=None, cats=None) -> torch.Tensor:
        """The forward pass, with hooks for eager-mode quantisation: ``enter`` / ``leave`` wrap the
        network after padding and before cropping (quant / dequant stubs), ``cats`` (one per decoder
        level) replace ``torch.cat`` for the skip connections."""
        if x.dim() != 5:
            raise ValueError(f"expected (B, C, X, Y, Z) input, got shape {tuple(x.shape)}")
        size = x.shape[2:]
        m = self.multiple
        pad = [(-s) % m for s in size]
        if any(pad):
            # F.pad lists the last dimension first: (z_lo, z_hi, y_lo, y_hi, x_lo, x_hi)
            x = F.pad(x, (0, pad[2], 0, pad[1], 0, pad[0]))
        if enter is not None:
            x = enter(x)
        skips = []
        for blk in self.down:
            x = blk(x)
            skips.append(x)
            x = F.max_pool3d(x, 2)
        x = self.drop(self.bottom(x))
        for k, (up, dec) in enumerate(zip(self.up, self.dec)):
            x = up(x)
            pair = [x, skips.pop()]
            x = dec(cats[k].cat(pair, dim=1) if cats is not None else torch.cat(pair, dim=1))
        x = self.head(x)
        if leave is not None:
            x = leave(x)
        if any(pad):
            x = x[:, :, : size[0], : size[1], : size[2]]
        return x

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_unet(config: UNetConfig | dict) -> UNet3D:
    """A U-Net from a config or its dict (as stored in checkpoints)."""
    if isinstance(config, dict):
        config = UNetConfig(**config)
    return UNet3D(config)
