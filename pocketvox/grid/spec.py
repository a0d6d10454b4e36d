"""Grid geometry: one object owns the box and every conversion between Å and voxel indices.

Conventions (used by every grid, label and map in pocketvox):

* Axis order is **X, Y, Z**: a grid array is C-ordered and indexed ``[x, y, z]`` (channels first:
  ``(C, X, Y, Z)``). Index ``i`` along an axis grows with the Å coordinate along that axis.
* A grid has ``n = round(size / resolution)`` points per axis. Point ``i`` sits at
  ``origin + i * resolution`` Å, with ``origin = center - (n - 1) / 2 * resolution``, so the points
  are symmetric about the centre and a rotation about the centre maps the point lattice onto itself
  for multiples of 90°. Each point is the centre of a cubic voxel of edge ``resolution``; the voxels
  tile a cube of edge exactly ``size`` Å.
* Even ``n`` (24 Å at 1.0 or 0.5 Å -> 24 or 48 points) halves cleanly through the pooling levels
  of a 3D U-Net.

Default box, justified (benchmarks/results/grid.md has the figures):

* **24 Å edge**: libmolgrid/gnina's default box (Ragoza et al., J. Chem. Inf. Model. 2017). The
  308 PoseBusters ligands span 9.6 Å (median) and 15.8 Å (95th percentile) along their longest
  axis; all atoms of 307 of them lie inside a 24 Å cube centred on their bounding box (98% keep a
  2 Å margin), so the cube holds the ligand, its ligand-side interaction points and the contacting
  residues.
* **1.0 Å resolution** by default: 24³ = 13.8 k voxels instead of 48³ = 110 k at 0.5 Å — 8× less
  memory and U-Net compute per sample, which is what makes CPU training practical. Interaction labels
  (spheres of 1.5 Å radius) and the Gaussian densities (atomic radii 1.5–2 Å) are still sampled by
  several voxels. Use ``resolution=0.5`` (libmolgrid's default) for finer maps on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pocketvox.errors import PocketvoxError

#: Default cube edge (Å) — libmolgrid/gnina's default box.
DEFAULT_SIZE = 24.0
#: Default voxel edge (Å) — coarse enough for CPU training; 0.5 Å is libmolgrid's default.
DEFAULT_RESOLUTION = 1.0


class GridSpecError(PocketvoxError):
    """An impossible grid request (non-positive size or resolution, bad centre)."""


@dataclass(frozen=True)
class GridSpec:
    """A cubic grid: ``center`` (3,) Å, edge ``size`` Å, voxel edge ``resolution`` Å.

    ``shape`` is ``(n, n, n)`` with ``n = round(size / resolution)``; arrays are indexed ``[x, y, z]``.
    """

    center: tuple[float, float, float]
    size: float = DEFAULT_SIZE
    resolution: float = DEFAULT_RESOLUTION

    def __post_init__(self):
        c = tuple(float(v) for v in np.asarray(self.center, np.float64).reshape(-1))
        if len(c) != 3 or not np.all(np.isfinite(c)):
            raise GridSpecError(f"grid centre must be 3 finite numbers (Å), got {self.center!r}")
        if not (self.resolution > 0 and np.isfinite(self.resolution)):
            raise GridSpecError(f"grid resolution must be > 0 Å, got {self.resolution}")
        if not (self.size >= self.resolution and np.isfinite(self.size)):
            raise GridSpecError(
                f"grid size must be at least one voxel ({self.resolution} Å), got {self.size}"
            )
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "size", float(self.size))
        object.__setattr__(self, "resolution", float(self.resolution))
        if self.n > 1024:
            raise GridSpecError(
                f"grid of {self.n}³ points is too large (size {self.size} Å at {self.resolution} Å)"
            )

    # ------------------------------------------------------------------ geometry
    @property
    def n(self) -> int:
        """Points per axis."""
        return max(1, int(round(self.size / self.resolution)))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(X, Y, Z)`` number of points."""
        return (self.n, self.n, self.n)

    @property
    def center_array(self) -> np.ndarray:
        return np.asarray(self.center, np.float64)

    @property
    def origin(self) -> np.ndarray:
        """(3,) Å: coordinates of point ``[0, 0, 0]`` (a voxel centre)."""
        return self.center_array - 0.5 * (self.n - 1) * self.resolution

    @property
    def spacing(self) -> np.ndarray:
        """(3,) Å between neighbouring points along X, Y, Z."""
        return np.full(3, self.resolution)

    def axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point coordinates along X, Y, Z, each (n,) Å."""
        a = np.arange(self.n) * self.resolution
        o = self.origin
        return a + o[0], a + o[1], a + o[2]

    def to_index(self, coords: np.ndarray) -> np.ndarray:
        """Å -> fractional voxel index: (..., 3) -> (..., 3) float; round it for the nearest point."""
        return (np.asarray(coords, np.float64) - self.origin) / self.resolution

    def to_coords(self, index: np.ndarray) -> np.ndarray:
        """Voxel index (integer or fractional) -> Å: (..., 3) -> (..., 3) float64."""
        return np.asarray(index, np.float64) * self.resolution + self.origin

    def nearest_index(self, coords: np.ndarray) -> np.ndarray:
        """(..., 3) Å -> (..., 3) int64 nearest point (may lie outside the grid)."""
        return np.rint(self.to_index(coords)).astype(np.int64)

    def contains(self, coords: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """(..., 3) Å -> (...,) bool: inside the point lattice's bounding cube grown by ``margin`` Å."""
        c = np.asarray(coords, np.float64)
        lo = self.origin - margin
        hi = self.origin + (self.n - 1) * self.resolution + margin
        return np.all((c >= lo) & (c <= hi), axis=-1)

    def is_lattice_aligned(self, tol: float = 1e-6) -> bool:
        """True when the origin is an integer multiple of the resolution on every axis (then CCP4
        maps place the grid through their start indices alone, which every viewer honours)."""
        f = self.origin / self.resolution
        return bool(np.all(np.abs(f - np.rint(f)) < tol))

    def with_center(self, center) -> GridSpec:
        return GridSpec(tuple(np.asarray(center, np.float64)), self.size, self.resolution)

    # ------------------------------------------------------------------ constructors
    @staticmethod
    def from_points(
        coords: np.ndarray,
        size: float | None = None,
        resolution: float = DEFAULT_RESOLUTION,
        padding: float = 4.0,
        snap: bool = True,
    ) -> GridSpec:
        """A grid centred on the bounding-box centre of ``coords`` (N, 3) Å.

        ``size`` defaults to the bounding box's longest edge plus ``2 * padding`` Å, rounded up to a
        multiple of ``2 * resolution`` (an even point count). With ``snap`` the centre moves by at most
        half a voxel so that the points lie on the lattice ``resolution * Z³`` (maps then overlay the
        structure in every viewer through integer start indices).
        """
        c = np.asarray(coords, np.float64).reshape(-1, 3)
        if len(c) == 0 or not np.all(np.isfinite(c)):
            raise GridSpecError("cannot centre a grid on an empty or non-finite set of points")
        lo, hi = c.min(0), c.max(0)
        center = 0.5 * (lo + hi)
        if size is None:
            step = 2 * resolution
            size = float(np.ceil((float((hi - lo).max()) + 2 * padding) / step) * step)
        spec = GridSpec(tuple(center), size, resolution)
        return spec.snapped() if snap else spec

    @staticmethod
    def around_ligand(
        ligand_coords: np.ndarray,
        size: float = DEFAULT_SIZE,
        resolution: float = DEFAULT_RESOLUTION,
        snap: bool = True,
    ) -> GridSpec:
        """A fixed-size cube centred on the ligand's bounding-box centre (heavy atoms, (N, 3) Å)."""
        return GridSpec.from_points(ligand_coords, size=size, resolution=resolution, snap=snap)

    @staticmethod
    def around_residues(atoms, selection: np.ndarray, size: float = DEFAULT_SIZE,
                        resolution: float = DEFAULT_RESOLUTION, snap: bool = True) -> GridSpec:
        """A cube centred on the atoms of ``atoms`` (an AtomTable) where ``selection`` (N,) bool is true."""
        sel = np.asarray(selection, bool)
        if not sel.any():
            raise GridSpecError("residue selection for the grid centre matches no atom")
        return GridSpec.from_points(atoms.coords[sel], size=size, resolution=resolution, snap=snap)

    def snapped(self) -> GridSpec:
        """This grid moved by < half a voxel per axis so that its points lie on ``resolution * Z³``."""
        o = self.origin
        shift = np.rint(o / self.resolution) * self.resolution - o
        return GridSpec(tuple(self.center_array + shift), self.size, self.resolution)

    def __repr__(self) -> str:
        c = ", ".join(f"{v:.3f}" for v in self.center)
        return (
            f"GridSpec(center=({c}) Å, size={self.size:g} Å, resolution={self.resolution:g} Å, "
            f"shape={self.shape})"
        )
