"""A tiny domain-free toy adapter for tests, demos and timing: blobs in noise.

Each sample is a (2, N, N, N) volume holding Gaussian blobs of two kinds (one per channel) in noise;
the targets are two binary masks: voxels within ``radius`` voxels of a kind-0 blob centre, and
voxels within ``radius`` of a kind-1 blob centre that also lie within ``2·radius`` of a kind-0
centre ("contact"), which needs context from both channels. Samples are a pure function of
(seed, split, epoch, index), so runs and resumed runs repeat exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pocketvox.volume.adapter import Geometry


class _BlobDataset:
    def __init__(self, n: int, size: int, seed: int, salt: int, augment: bool, radius: float = 2.5):
        self.n, self.size, self.seed, self.salt, self.augment, self.radius = n, size, seed, salt, augment, radius
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        import torch

        ep = self.epoch if self.augment else 0
        rng = np.random.default_rng([self.seed, self.salt, ep, int(i)])
        s = self.size
        g = np.stack(np.meshgrid(*(np.arange(s, dtype=np.float32),) * 3, indexing="ij"), -1)
        a = rng.uniform(2, s - 2, (4, 3)).astype(np.float32)
        b = np.concatenate([a[:2] + rng.normal(0, self.radius, (2, 3)), rng.uniform(2, s - 2, (2, 3))])
        b = b.astype(np.float32)
        da = np.linalg.norm(g[..., None, :] - a, axis=-1).min(-1)
        db = np.linalg.norm(g[..., None, :] - b, axis=-1).min(-1)
        x = np.stack([np.exp(-(da**2) / 4.0), np.exp(-(db**2) / 4.0)]).astype(np.float32)
        x += rng.normal(0, 0.05, x.shape).astype(np.float32)
        t0 = da <= self.radius
        near_a = np.linalg.norm(b[:, None] - a[None], axis=-1).min(1) <= 2 * self.radius
        db_near = (np.linalg.norm(g[..., None, :] - b[near_a], axis=-1).min(-1) if near_a.any()
                   else np.full_like(da, 1e9))
        t1 = db_near <= self.radius
        y = np.stack([t0, t1]).astype(np.float32)
        return {"inputs": torch.from_numpy(x), "targets": torch.from_numpy(y), "key": f"blob{self.salt}-{i}"}


class SyntheticAdapter:
    """Blobs-in-noise volumes (see module docstring). Options: n_train, n_val, n_test, size."""

    name = "synthetic"
    task = "multilabel"
    channel_names = ("blob_a", "blob_b")
    target_names = ("core_a", "contact_b")

    def __init__(self, n_train: int = 16, n_val: int = 4, n_test: int = 4, size: int = 16, **_ignored):
        self.n_train, self.n_val, self.n_test, self.size = int(n_train), int(n_val), int(n_test), int(size)

    def datasets(self, seed: int = 0) -> dict:
        return {
            "train": _BlobDataset(self.n_train, self.size, seed, 0, augment=True),
            "val": _BlobDataset(self.n_val, self.size, seed, 1, augment=False),
            "test": _BlobDataset(self.n_test, self.size, seed, 2, augment=False),
        }

    def geometry(self) -> Geometry:
        return Geometry(origin=(0.0, 0.0, 0.0), spacing=(1.0, 1.0, 1.0), shape=(self.size,) * 3,
                        unit="voxel", frame="synthetic")

    def metadata(self) -> dict:
        return {"adapter": self.name, "options": {"n_train": self.n_train, "n_val": self.n_val,
                                                  "n_test": self.n_test, "size": self.size},
                "geometry": self.geometry().to_dict()}

    def write_prediction(self, pred, geometry: Geometry, path, names=None) -> list:
        import io

        from pocketvox.volume.io import atomic_write_bytes

        buf = io.BytesIO()
        np.savez_compressed(buf, pred=np.asarray(pred), origin=geometry.origin, spacing=geometry.spacing)
        atomic_write_bytes(path, buf.getvalue())
        return [Path(path)]
