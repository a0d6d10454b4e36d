"""The grid-adapter protocol: how a domain hands volumes to the core, and gets predictions back.

An adapter turns its domain's sources into samples the core consumes and predictions back into the
domain's own files. The core (U-Net, losses, metrics, trainer, tiling) only ever sees:

- ``inputs``  : (C, X, Y, Z) float32 tensor, channels named by ``channel_names``
- ``targets`` : (K, X, Y, Z) tensor, named by ``target_names`` — {0,1} float for ``task="multilabel"``,
  one-hot float (or (X, Y, Z) int64 indices) for ``"multiclass"``, real values for ``"regression"``
- ``mask``    : optional (1, X, Y, Z) float, 1 where a voxel counts in loss and metrics
- ``key``     : a string naming the sample (complex id, scan name, time step)
- :class:`Geometry`: where the voxels are (origin, spacing, optional affine, frame name)

Adapters are found by name in a registry (``get_adapter("molecular", **options)``); entries may be
``"module:attribute"`` strings so that registering an adapter imports nothing. Third-party packages can
add adapters through the ``pocketvox.adapters`` entry-point group. This module imports no domain code.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

TASKS = ("multilabel", "multiclass", "regression")


@dataclass(frozen=True)
class Geometry:
    """Placement of a voxel grid in its domain's frame.

    origin : (3,) position of the centre of voxel [0, 0, 0], in ``unit``
    spacing : (3,) voxel size along X, Y, Z, in ``unit``
    shape : (3,) voxels along X, Y, Z (arrays are indexed ``[x, y, z]``)
    affine : optional 4×4 row-major voxel-index → world matrix (medical images); when given it
        supersedes origin/spacing for orientation
    unit, frame : e.g. ('Å', 'PDB'), ('mm', 'RAS'), ('', 'lon/lat/level')
    extra : any JSON-able domain data (e.g. CRS, level values)
    """

    origin: tuple[float, float, float]
    spacing: tuple[float, float, float]
    shape: tuple[int, int, int]
    affine: tuple | None = None
    unit: str = ""
    frame: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["origin"] = [float(v) for v in self.origin]
        d["spacing"] = [float(v) for v in self.spacing]
        d["shape"] = [int(v) for v in self.shape]
        if self.affine is not None:
            d["affine"] = [[float(v) for v in row] for row in self.affine]
        return d

    @staticmethod
    def from_dict(d: dict) -> Geometry:
        aff = d.get("affine")
        return Geometry(
            origin=tuple(float(v) for v in d["origin"]),
            spacing=tuple(float(v) for v in d["spacing"]),
            shape=tuple(int(v) for v in d["shape"]),
            affine=tuple(tuple(float(v) for v in row) for row in aff) if aff is not None else None,
            unit=d.get("unit", ""),
            frame=d.get("frame", ""),
            extra=dict(d.get("extra", {})),
        )


@runtime_checkable
class VolumeAdapter(Protocol):
    """What a domain implements. Construct with keyword options (from the config's [adapter] table).

    Datasets are ``torch.utils.data.Dataset`` objects whose items are dicts with ``inputs``,
    ``targets``, optional ``mask`` and ``key``; if a dataset has ``set_epoch(epoch)`` the trainer
    calls it before each epoch so that augmentation is a function of (seed, epoch, index) and a
    resumed run repeats it exactly.
    """

    name: str
    task: str
    channel_names: tuple[str, ...]
    target_names: tuple[str, ...]

    def datasets(self, seed: int = 0) -> dict[str, Any]:
        """{'train': Dataset, 'val': Dataset, 'test': Dataset (may be absent)}."""

    def metadata(self) -> dict:
        """JSON-able facts stored in checkpoints: options, split, geometry defaults, data source."""

    def write_prediction(self, pred, geometry: Geometry, path, names=None) -> list:
        """Write a (K, X, Y, Z) prediction array in the domain's own format; returns paths written."""


_REGISTRY: dict[str, Any] = {}


def register_adapter(name: str, target) -> None:
    """Register an adapter class/factory, or a lazy ``"module:attribute"`` string, under ``name``."""
    _REGISTRY[name] = target


def _load_entry_points() -> None:
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group="pocketvox.adapters"):
            _REGISTRY.setdefault(ep.name, ep.value)
    except Exception:  # noqa: BLE001 - broken third-party metadata must not break built-ins
        pass


def adapter_names() -> list[str]:
    _ensure_builtins()
    return sorted(_REGISTRY)


def _ensure_builtins() -> None:
    # The built-in domain adapters register themselves in pocketvox.adapters (by string, lazily);
    # importing that package here is a runtime lookup, not an import-time dependency of the core.
    if "molecular" not in _REGISTRY:
        try:
            importlib.import_module("pocketvox.adapters")
        except ImportError:
            pass
    _load_entry_points()


def get_adapter_class(name: str):
    _ensure_builtins()
    if name not in _REGISTRY:
        from pocketvox.errors import PocketvoxError

        raise PocketvoxError(f"unknown adapter {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    target = _REGISTRY[name]
    if isinstance(target, str):
        mod, _, attr = target.partition(":")
        target = getattr(importlib.import_module(mod), attr)
        _REGISTRY[name] = target
    return target


def get_adapter(name: str, **options) -> VolumeAdapter:
    """Instantiate the adapter registered as ``name`` with keyword ``options``."""
    return get_adapter_class(name)(**options)


register_adapter("synthetic", "pocketvox.volume.synthetic:SyntheticAdapter")
