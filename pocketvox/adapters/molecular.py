"""The molecular adapter: protein–ligand complexes → (16, n, n, n) density grids and (K, n, n, n)
interaction labels, and predictions → CCP4 maps.

Inputs are the 16 channels of :func:`pocketvox.grid.channel_names` (8 protein atom kinds, then the
same 8 for the ligand). Targets are the label classes (default hbond, hydrophobic, pistacking:
spheres of 1.5 Å around the interactions' ligand-side points, :mod:`pocketvox.grid.labels`).

Modes (one network serves both):

- complex mode — protein and ligand channels;
- pocket mode — the ligand channels are zero; the ligand only places the box and makes the labels.

Training uses *ligand-channel dropout*: each training sample is shown in pocket mode with
probability ``ligand_dropout``. Validation and test sets hold every complex twice, once per mode
(``mode="both"``), so model selection weighs both questions. Augmentation: a uniform random rotation
about the grid centre and a shift of up to ``max_shift`` Å, drawn from (seed, epoch, index).
"""

from __future__ import annotations

import numpy as np

from pocketvox.volume.adapter import Geometry

N_KINDS = 8  # protein channels 0..7, ligand channels 8..15


def grid_geometry(spec) -> Geometry:
    return Geometry(origin=tuple(float(v) for v in spec.origin), spacing=(spec.resolution,) * 3,
                    shape=tuple(spec.shape), unit="Å", frame="input structure",
                    extra={"center": list(spec.center), "size": spec.size})


class ComplexGrids:
    """A torch-style dataset over cached complexes (see :mod:`pocketvox.apps.dataset`).

    Items: ``{"inputs": (16, n, n, n) float32, "targets": (K, n, n, n) float32, "key": "ID:mode"}``.
    ``modes``: 'complex', 'pocket', 'both' (each complex twice, complex then pocket) or 'dropout'
    (training: pocket with probability ``ligand_dropout``).
    """

    def __init__(self, items: list, classes: tuple[str, ...], all_classes: tuple[str, ...], size: float,
                 resolution: float, modes: str = "both", ligand_dropout: float = 0.5, augment: bool = False,
                 max_shift: float = 2.0, seed: int = 0, label_radius: float = 1.5):
        self.items = items
        self.classes = tuple(classes)
        self.class_idx = np.array([all_classes.index(c) for c in classes])
        self.size, self.resolution = float(size), float(resolution)
        self.modes, self.ligand_dropout = modes, float(ligand_dropout)
        self.augment, self.max_shift, self.seed = augment, float(max_shift), int(seed)
        self.label_radius = float(label_radius)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.items) * (2 if self.modes == "both" else 1)

    def sample(self, i: int):
        """(VoxelGrid, mode, item) for index ``i`` (numpy; used by evaluate and baselines too)."""
        from pocketvox.grid import GridSpec, LabelParams, RigidTransform, TypedAtoms, voxelize_arrays

        n = len(self.items)
        it = self.items[i % n]
        rng = np.random.default_rng([self.seed, self.epoch if self.augment else 0, int(i)])
        if self.modes == "both":
            mode = "complex" if i < n else "pocket"
        elif self.modes == "dropout":
            mode = "pocket" if rng.random() < self.ligand_dropout else "complex"
        else:
            mode = self.modes
        spec = GridSpec(tuple(it.center), self.size, self.resolution)
        rot = tr = None
        if self.augment:
            t = RigidTransform.random(spec.center_array, rng, max_shift=self.max_shift)
            rot, tr = t.rotation, t.translation
        types = it.types
        if mode == "pocket":
            keep = types[:, :N_KINDS].any(1)
            atoms = TypedAtoms(it.coords[keep], it.radii[keep], types[keep] & _PROT_MASK, _CHANNELS())
        else:
            atoms = TypedAtoms(it.coords, it.radii, types, _CHANNELS())
        memb = it.label_classes[:, self.class_idx]
        g = voxelize_arrays(atoms, spec, it.label_points.astype(np.float64), memb, self.classes, rot, tr,
                            label_params=LabelParams(radius=self.label_radius))
        return g, mode, it

    def __getitem__(self, i: int) -> dict:
        import torch

        g, mode, it = self.sample(i)
        return {"inputs": torch.from_numpy(np.ascontiguousarray(g.features, np.float32)),
                "targets": torch.from_numpy(g.labels.astype(np.float32)),
                "key": f"{it.id}:{mode}"}


_PROT_MASK = np.r_[np.ones(N_KINDS, bool), np.zeros(N_KINDS, bool)]


def _CHANNELS() -> tuple[str, ...]:  # noqa: N802 - a constant computed lazily (grid import is cheap)
    from pocketvox.grid import channel_names

    return tuple(channel_names(True))


class MolecularAdapter:
    """Adapter over a dataset cache built by ``pocketvox dataset build``.

    Options: ``cache`` (path, required), ``classes`` (label classes), ``size`` (Å, 24),
    ``resolution`` (Å, 1.0), ``ligand_dropout`` (0.5), ``train_mode`` ('dropout' | 'complex' |
    'pocket'), ``eval_mode`` ('both' | 'complex' | 'pocket'), ``max_shift`` (Å, 2.0), ``label_radius``
    (Å, 1.5), ``limit`` (first N complexes per split; 0 = all).
    """

    name = "molecular"
    task = "multilabel"

    def __init__(self, cache: str = "", classes=("hbond", "hydrophobic", "pistacking"), size: float = 24.0,
                 resolution: float = 1.0, ligand_dropout: float = 0.5, train_mode: str = "dropout",
                 eval_mode: str = "both", max_shift: float = 2.0, label_radius: float = 1.5, limit: int = 0):
        from pocketvox.errors import PocketvoxError
        from pocketvox.grid import ALL_LABEL_CLASSES, channel_names
        from pocketvox.grid.labels import check_classes

        if not cache:
            raise PocketvoxError("molecular adapter needs a dataset cache: set [adapter] cache = \"...\" "
                                 "(build one with `pocketvox dataset build`)")
        self.cache = str(cache)
        self.classes = check_classes(classes)
        self.size, self.resolution = float(size), float(resolution)
        self.ligand_dropout, self.train_mode, self.eval_mode = float(ligand_dropout), train_mode, eval_mode
        self.max_shift, self.label_radius, self.limit = float(max_shift), float(label_radius), int(limit)
        self.channel_names = tuple(channel_names(True))
        self.target_names = self.classes
        self.all_classes = ALL_LABEL_CLASSES
        self._items = None
        self._info = None

    def _load(self):
        if self._items is None:
            from pocketvox.apps.dataset import read_cache

            self._items, self._info = read_cache(self.cache)
        return self._items, self._info

    def split_items(self, split: str) -> list:
        items, info = self._load()
        ids = [i for i in info["split"].get(split, []) if i in items]
        if self.limit:
            ids = ids[: self.limit]
        return [items[i] for i in ids]

    def dataset(self, split: str, seed: int = 0, mode: str | None = None) -> ComplexGrids:
        train = split == "train"
        modes = mode or (self.train_mode if train else self.eval_mode)
        return ComplexGrids(self.split_items(split), self.classes, self.all_classes, self.size, self.resolution,
                            modes=modes, ligand_dropout=self.ligand_dropout, augment=train,
                            max_shift=self.max_shift, seed=seed, label_radius=self.label_radius)

    def datasets(self, seed: int = 0) -> dict:
        return {s: self.dataset(s, seed) for s in ("train", "val", "test")}

    def metadata(self) -> dict:
        _, info = self._load()
        return {
            "adapter": self.name,
            "options": {"cache": self.cache, "classes": list(self.classes), "size": self.size,
                        "resolution": self.resolution, "ligand_dropout": self.ligand_dropout,
                        "train_mode": self.train_mode, "eval_mode": self.eval_mode, "max_shift": self.max_shift,
                        "label_radius": self.label_radius, "limit": self.limit},
            "grid": {"size": self.size, "resolution": self.resolution, "n": int(round(self.size / self.resolution)),
                     "centre": "ligand heavy-atom bounding-box centre, snapped to the lattice"},
            "split": {k: v for k, v in info["split"].items()},
            "data_source": info.get("source", ""),
        }

    def write_prediction(self, pred, geometry: Geometry, path, names=None) -> list:
        """One CCP4 map per class: ``<path>/pred_<class>.ccp4`` (Å, the structure's frame)."""
        from pathlib import Path

        from pocketvox.grid import write_ccp4

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        names = names or self.target_names
        written = []
        for k, name in enumerate(names):
            p = out / f"pred_{name}.ccp4"
            write_ccp4(p, np.asarray(pred[k], np.float32), geometry.origin, geometry.spacing[0])
            written.append(p)
        return written
