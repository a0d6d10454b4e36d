"""From a complex (or cached arrays) to what the network sees: feature and label grids.

Two entry points:

* :func:`voxelize` takes a :class:`~pocketvox.structure.atoms.Complex` and optionally its
  :class:`~pocketvox.interactions.result.InteractionSet` (predict, CLI, notebooks);
* :func:`voxelize_arrays` takes the compact arrays a dataset cache stores — typed atoms
  (:class:`~pocketvox.grid.channels.TypedAtoms`) and label points with class membership — so a
  training loader never rebuilds Complex objects.

Both apply the optional rigid transform to atoms and label points alike before gridding.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from pocketvox.atomic import atomic_write_bytes
from pocketvox.grid.augment import RigidTransform
from pocketvox.grid.channels import DensityParams, TypedAtoms, type_atoms
from pocketvox.grid.kernels import grid_density
from pocketvox.grid.labels import DEFAULT_LABEL_CLASSES, LabelParams, check_classes, label_arrays, label_grid
from pocketvox.grid.spec import DEFAULT_RESOLUTION, DEFAULT_SIZE, GridSpec


@dataclass(frozen=True)
class VoxelGrid:
    """features (C, X, Y, Z) float32; labels (K, X, Y, Z) uint8 or None; the grid ``spec``;
    ``channel_names`` (C,) and ``label_names`` (K,)."""

    features: np.ndarray
    labels: np.ndarray | None
    spec: GridSpec
    channel_names: tuple[str, ...]
    label_names: tuple[str, ...]

    def to_npz(self, path) -> None:
        """Write ``features, labels, origin, spacing, center, channel_names, label_names`` (atomic)."""
        buf = io.BytesIO()
        labels = self.labels if self.labels is not None else np.zeros((0,) + self.spec.shape, np.uint8)
        np.savez_compressed(
            buf,
            features=self.features,
            labels=labels,
            origin=self.spec.origin,
            spacing=self.spec.spacing,
            center=self.spec.center_array,
            size=np.float64(self.spec.size),
            channel_names=np.array(self.channel_names),
            label_names=np.array(self.label_names),
        )
        atomic_write_bytes(path, buf.getvalue())

    @staticmethod
    def from_npz(path) -> VoxelGrid:
        with np.load(path) as z:
            spec = GridSpec(tuple(z["center"]), float(z["size"]), float(z["spacing"][0]))
            labels = z["labels"]
            return VoxelGrid(
                z["features"], labels if labels.shape[0] else None, spec,
                tuple(str(s) for s in z["channel_names"]), tuple(str(s) for s in z["label_names"]),
            )


def _transform(rotation, translation, spec: GridSpec) -> RigidTransform | None:
    if rotation is None and translation is None:
        return None
    rot = np.eye(3) if rotation is None else np.asarray(rotation, np.float64).reshape(3, 3)
    tr = np.zeros(3) if translation is None else np.asarray(translation, np.float64).reshape(3)
    return RigidTransform(rot, tr, spec.center_array)


def voxelize_arrays(
    atoms: TypedAtoms,
    spec: GridSpec,
    label_points: np.ndarray | None = None,
    label_membership: np.ndarray | None = None,
    label_names: tuple[str, ...] = (),
    rotation: np.ndarray | None = None,
    translation: np.ndarray | None = None,
    density: DensityParams | None = None,
    label_params: LabelParams | None = None,
) -> VoxelGrid:
    """Grid typed atoms (and label points, if given) on ``spec``.

    ``rotation`` (3, 3) is applied about the grid centre, then ``translation`` (3,) Å, to atoms and
    label points alike (see :class:`~pocketvox.grid.augment.RigidTransform`).
    """
    tf = _transform(rotation, translation, spec)
    coords = atoms.coords if tf is None else tf.apply(atoms.coords)
    feats = grid_density(coords, atoms.radii, atoms.types, spec, density)
    labels = None
    if label_points is not None and label_membership is not None:
        pts = label_points if tf is None or len(label_points) == 0 else tf.apply(label_points)
        labels = label_grid(pts, label_membership, spec, label_params)
    names = tuple(label_names) if labels is not None else ()
    return VoxelGrid(feats, labels, spec, tuple(atoms.channel_names), names)


def default_spec(complex_, size: float = DEFAULT_SIZE, resolution: float = DEFAULT_RESOLUTION) -> GridSpec:
    """A cube of ``size`` Å around the ligand's heavy atoms (snapped to the lattice)."""
    lig = complex_.ligand
    heavy = np.asarray(lig.element).astype(str) != "H"
    pts = lig.coords[heavy] if heavy.any() else lig.coords
    return GridSpec.around_ligand(pts, size=size, resolution=resolution)


def voxelize(
    complex_,
    interactions=None,
    spec: GridSpec | None = None,
    rotation: np.ndarray | None = None,
    translation: np.ndarray | None = None,
    label_classes=DEFAULT_LABEL_CLASSES,
    include_ligand: bool = True,
    density: DensityParams | None = None,
    label_params: LabelParams | None = None,
) -> VoxelGrid:
    """Feature grids (protein channels, then ligand channels if ``include_ligand``) and, when
    ``interactions`` is given, one label channel per class in ``label_classes``.

    ``spec`` defaults to :func:`default_spec` (24 Å cube at 1.0 Å around the ligand). Pocket mode
    (the ligand unknown at prediction time) is ``include_ligand=False`` with an explicit ``spec``.
    """
    if spec is None:
        spec = default_spec(complex_)
    typed = type_atoms(complex_.protein, complex_.ligand, include_ligand=include_ligand)
    if interactions is None:
        return voxelize_arrays(typed, spec, rotation=rotation, translation=translation, density=density)
    classes = check_classes(label_classes)
    pts, memb = label_arrays(interactions, classes)
    return voxelize_arrays(typed, spec, pts, memb, classes, rotation, translation, density, label_params)
