"""Composable intensity transforms for scalar volumes (MRI, CT).

Every transform is a frozen dataclass called as ``t(image, mask=None) -> float32 array`` of the
image's shape. ``mask`` (bool, same shape) restricts the *statistics* to a region (the brain, the
body); the whole image is transformed. Transforms compose with :class:`Compose`.

Choices and sources:
- z-score within a mask is the usual MRI normalisation (nnU-Net, Isensee et al., Nat. Methods 2021,
  normalises non-CT modalities per image by mean/std inside the non-zero region).
- Percentile min-max (default 0.5 / 99.5 %) is robust to the few hot voxels MRI has.
- CT windowing clips Hounsfield units to a window given by level/width (radiology convention, e.g. lung
  window level -600 HU, width 1500 HU) and rescales it to [0, 1].
- Histogram matching maps the image's quantiles onto a reference's (Nyúl & Udupa, MRM 1999 use
  landmark quantiles; here a dense quantile grid with linear interpolation between them).

NumPy only: nothing here needs a medical library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pocketvox.errors import PocketvoxError

_EPS = 1e-8


def _region(image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Voxel values the statistics are taken from (1D); the whole image without a mask."""
    if mask is None:
        return image.reshape(-1)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != image.shape:
        raise PocketvoxError(f"mask shape {mask.shape} does not match image shape {image.shape}")
    vals = image[mask]
    if vals.size == 0:
        raise PocketvoxError("mask is empty: no voxels to take intensity statistics from")
    return vals


@dataclass(frozen=True)
class ZScore:
    """``(x - mean) / std`` with mean and std taken inside the mask (unitless output).

    ``outside``: value written outside the mask (``None`` keeps the transformed values there).
    """

    outside: float | None = 0.0

    def __call__(self, image, mask=None):
        x = np.asarray(image, dtype=np.float32)
        v = _region(x, mask).astype(np.float64)
        out = ((x - v.mean()) / max(v.std(), _EPS)).astype(np.float32)
        if mask is not None and self.outside is not None:
            out[~np.asarray(mask, bool)] = self.outside
        return out


@dataclass(frozen=True)
class PercentileMinMax:
    """Rescale so the ``low``/``high`` percentiles (in %) inside the mask map to 0 and 1.

    ``clip``: clip the result to [0, 1] (values beyond the percentiles saturate).
    """

    low: float = 0.5
    high: float = 99.5
    clip: bool = True

    def __post_init__(self):
        if not 0.0 <= self.low < self.high <= 100.0:
            raise PocketvoxError(f"percentiles must satisfy 0 <= low < high <= 100, got {self.low}, {self.high}")

    def __call__(self, image, mask=None):
        x = np.asarray(image, dtype=np.float32)
        lo, hi = np.percentile(_region(x, mask), [self.low, self.high])
        out = (x - lo) / max(hi - lo, _EPS)
        return (np.clip(out, 0.0, 1.0) if self.clip else out).astype(np.float32)


@dataclass(frozen=True)
class CTWindow:
    """Clip Hounsfield units to ``[level - width/2, level + width/2]`` (HU) and map it to [0, 1].

    Presets (radiology convention): :meth:`lung` (-600, 1500), :meth:`soft_tissue` (40, 400),
    :meth:`bone` (400, 1800). The mask is ignored: HU are absolute units.
    """

    level: float = 40.0
    width: float = 400.0

    def __post_init__(self):
        if self.width <= 0:
            raise PocketvoxError(f"CT window width must be > 0 HU, got {self.width}")

    @classmethod
    def lung(cls) -> CTWindow:
        return cls(-600.0, 1500.0)

    @classmethod
    def soft_tissue(cls) -> CTWindow:
        return cls(40.0, 400.0)

    @classmethod
    def bone(cls) -> CTWindow:
        return cls(400.0, 1800.0)

    def __call__(self, image, mask=None):
        x = np.asarray(image, dtype=np.float32)
        lo = self.level - self.width / 2
        return np.clip((x - lo) / self.width, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class HistogramMatch:
    """Map the image's intensity quantiles (inside the mask) onto a reference's.

    ``reference``: a 1D array of reference intensities (e.g. the brain voxels of a template), or
    precomputed quantiles when ``n_quantiles`` equals its length. The mapping is monotone and
    piecewise linear between ``n_quantiles`` evenly spaced quantiles; outside the range it is
    extended with the end slopes clamped, so no value is left unmapped.
    """

    reference: np.ndarray = field(repr=False)
    n_quantiles: int = 256

    def __post_init__(self):
        ref = np.asarray(self.reference, dtype=np.float64).reshape(-1)
        if ref.size < 2 or not np.all(np.isfinite(ref)):
            raise PocketvoxError("histogram-matching reference needs at least two finite values")
        object.__setattr__(self, "reference", ref)

    def __call__(self, image, mask=None):
        x = np.asarray(image, dtype=np.float32)
        q = np.linspace(0.0, 1.0, self.n_quantiles)
        src = np.quantile(_region(x, mask).astype(np.float64), q)
        ref = np.quantile(self.reference, q)
        # np.interp needs strictly increasing x: plateaus in the source (many equal voxels) keep
        # their first reference value.
        src, idx = np.unique(src, return_index=True)
        ref = ref[idx]
        if src.size == 1:
            return np.full_like(x, ref[0])
        return np.interp(x, src, ref).astype(np.float32)


@dataclass(frozen=True)
class Compose:
    """Apply transforms in order; each sees the same mask."""

    transforms: Sequence = ()

    def __call__(self, image, mask=None):
        out = np.asarray(image, dtype=np.float32)
        for t in self.transforms:
            out = t(out, mask)
        return out


def from_config(spec: Sequence[dict] | None, reference: np.ndarray | None = None) -> Compose:
    """Build a :class:`Compose` from config entries such as ``{"name": "zscore"}``,
    ``{"name": "percentile", "low": 1, "high": 99}``, ``{"name": "ct_window", "level": -600, "width": 1500}``
    or ``{"name": "histmatch"}`` (needs ``reference``)."""
    kinds = {"zscore": ZScore, "percentile": PercentileMinMax, "ct_window": CTWindow}
    out = []
    for entry in spec or ():
        entry = dict(entry)
        name = entry.pop("name", None)
        if name == "histmatch":
            if reference is None:
                raise PocketvoxError("transform 'histmatch' needs a reference image")
            out.append(HistogramMatch(reference, **entry))
        elif name in kinds:
            try:
                out.append(kinds[name](**entry))
            except TypeError as e:
                raise PocketvoxError(f"transform {name!r}: {e}") from None
        else:
            raise PocketvoxError(f"unknown intensity transform {name!r} (known: {sorted([*kinds, 'histmatch'])})")
    return Compose(tuple(out))
