"""Rigid augmentation on coordinates, before gridding: a uniform random rotation about the grid
centre and a random translation, applied identically to protein, ligand and interaction points so
inputs and labels stay aligned."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternion(s) ``(..., 4)`` as (w, x, y, z) -> rotation matrices ``(..., 3, 3)``."""
    q = np.asarray(q, np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def random_rotation(rng: np.random.Generator | int | None = None, size: int | None = None) -> np.ndarray:
    """Rotation matrix (3, 3) (or ``(size, 3, 3)``) uniform over SO(3).

    A 4D standard normal vector is isotropic, so its direction is uniform on S³; unit quaternions
    cover SO(3) twice (q and -q), evenly, so the rotation is uniform (Haar measure; Shoemake,
    Graphics Gems III, 1992).
    """
    rng = np.random.default_rng(rng)
    q = rng.standard_normal((1 if size is None else size, 4))
    r = quaternion_to_matrix(q)
    return r[0] if size is None else r


def random_translation(rng: np.random.Generator | int | None = None, max_shift: float = 2.0,
                       size: int | None = None) -> np.ndarray:
    """Translation (3,) Å (or ``(size, 3)``), each component uniform in ``[-max_shift, max_shift]``
    (libmolgrid's ``random_translation`` convention)."""
    rng = np.random.default_rng(rng)
    t = rng.uniform(-max_shift, max_shift, (1 if size is None else size, 3))
    return t[0] if size is None else t


@dataclass(frozen=True)
class RigidTransform:
    """``x' = R (x - center) + center + translation``; R (3, 3), center and translation (3,) Å."""

    rotation: np.ndarray
    translation: np.ndarray
    center: np.ndarray

    def apply(self, coords: np.ndarray) -> np.ndarray:
        """(N, 3) Å -> (N, 3) Å, float64."""
        c = np.asarray(coords, np.float64).reshape(-1, 3)
        ctr = np.asarray(self.center, np.float64)
        rot = np.asarray(self.rotation, np.float64)
        return (c - ctr) @ rot.T + ctr + np.asarray(self.translation, np.float64)

    @staticmethod
    def identity(center) -> RigidTransform:
        return RigidTransform(np.eye(3), np.zeros(3), np.asarray(center, np.float64))

    @staticmethod
    def random(center, rng=None, max_shift: float = 2.0, rotate: bool = True) -> RigidTransform:
        """A uniform random rotation (if ``rotate``) about ``center`` and a uniform shift in a cube of
        half-edge ``max_shift`` Å."""
        rng = np.random.default_rng(rng)
        rot = random_rotation(rng) if rotate else np.eye(3)
        return RigidTransform(rot, random_translation(rng, max_shift), np.asarray(center, np.float64))
