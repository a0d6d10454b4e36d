"""Scoring docked poses against a pocket's predicted interaction maps (vectorised over a whole chunk).

Score of one pose (docs/screening.md has the rationale)::

    score = (sum_k w_k * T_k  -  w_clash * C) / N ** a


* ``T_k`` — the class-``k`` term: the sum, over the pose's ligand points that can make an interaction
  of class ``k`` (:data:`CLASS_FEATURES`), of the predicted probability of class ``k`` at that point,
  trilinearly interpolated in the ``(K, X, Y, Z)`` maps (0 outside the box). It reads as the expected
  number of class-``k`` interactions the pose makes under the network's prediction for the pocket.
* ``C`` — clash, Å: sum over ligand heavy atom / receptor heavy atom pairs of
  ``max(0, s * (r_i + r_j) - d_ij)``, with Bondi radii and ``s = 0.75`` (PoseBusters' minimum distance
  criterion; Buttenschoen et al., Chem. Sci. 2024). Pairs found with a KD-tree.
* ``N`` — the pose's heavy atoms, ``a`` — :attr:`ScoreParams.size_exponent` (default 1/2). The raw sum
  grows with the number of feature points a molecule brings, so an additive score ranks large
  molecules first whatever they bind (the heavy-atom-count bias of docking scores; Kuntz et al.,
  PNAS 1999; Pan et al., JCICS 2003). If a non-binder's ``N`` points each pick up a roughly
  independent chance overlap, the raw sum's mean grows like ``N`` and its spread like ``sqrt(N)``,
  so dividing by ``sqrt(N)`` measures a pose in units of that spread — chosen on this argument
  before any enrichment was measured with it; ``a = 1`` is per heavy atom (ligand efficiency, which
  over-favours fragments), ``a = 0`` the plain additive sum.

Every step is an array operation over all the chunk's points at once; per-pose sums use
``np.bincount`` so the result of a pose does not depend on the other poses of its chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvox.apps.screen_read import (
    ACCEPTOR,
    DONOR,
    HALOGEN,
    HYDROPHOBIC,
    NEGATIVE,
    POSITIVE,
    RING,
    PoseBatch,
)
from pocketvox.errors import InputFileError

#: Which ligand feature points are sampled in the map of each interaction class (ligand side, as the
#: labels are placed). A point with several matching features is sampled once per class.
CLASS_FEATURES = {
    "hbond": DONOR | ACCEPTOR,
    "hbond_donor": DONOR,  # ligand donates
    "hbond_ligand_donor": DONOR,
    "hbond_acceptor": ACCEPTOR,
    "hbond_ligand_acceptor": ACCEPTOR,
    "hydrophobic": HYDROPHOBIC | HALOGEN,  # PLIP counts ligand halogens in hydrophobic contacts
    "pistacking": RING,
    "pication": RING | POSITIVE,
    "saltbridge": POSITIVE | NEGATIVE,
    "halogen": HALOGEN,
    # direction-aware classes (model-free maps know the receptor partner's sign / kind)
    "saltbridge_ligand_positive": POSITIVE,
    "saltbridge_ligand_negative": NEGATIVE,
    "pication_ligand_cation": POSITIVE,
    "pication_ligand_ring": RING,
    "waterbridge": DONOR | ACCEPTOR,
    "metal": ACCEPTOR | NEGATIVE,
}


def class_mask(name: str) -> int:
    """Feature bits for a map class name; prefixes match ('pistacking_parallel' -> 'pistacking').

    Background or unknown classes get 0 (not scored).
    """
    key = name.lower().strip()
    if key in CLASS_FEATURES:
        return CLASS_FEATURES[key]
    for k in sorted(CLASS_FEATURES, key=len, reverse=True):
        if key.startswith(k):
            return CLASS_FEATURES[k]
    return 0


@dataclass(frozen=True)
class ScoreParams:
    """Weights and thresholds of the screening score.

    class_weights : ((class name, weight), ...) overrides; other classes weigh ``default_weight``
    clash_scale : pairs closer than ``clash_scale * (r_i + r_j)`` Å clash (PoseBusters: 0.75)
    clash_weight : score units per Å of summed overlap (heuristic: a 1 Å overlap costs as much as two
        certain interactions)
    clash_neighbors : receptor atoms examined per ligand atom (KD-tree k)
    min_inside : poses with a smaller fraction of heavy atoms inside the map box are reported as
        'outside the pocket' instead of scored
    size_exponent : the score is divided by (heavy atoms) ** size_exponent (module docstring):
        0 additive, 1/3 or 1/2 size-normalised, 1 per heavy atom
    rescore : 'maps' (terms from the pocket's predicted maps) or 'cnn' (terms from the
        complex-mode network run on each pose, :mod:`pocketvox.apps.screen_cnn`)
    """

    class_weights: tuple = ()
    default_weight: float = 1.0
    clash_scale: float = 0.75
    clash_weight: float = 2.0
    clash_neighbors: int = 8
    min_inside: float = 0.5
    size_exponent: float = 0.5
    rescore: str = "maps"

    def weight(self, name: str) -> float:
        return float(dict(self.class_weights).get(name, self.default_weight))


@dataclass
class PocketMaps:
    """A pocket's predicted maps and receptor atoms: everything a worker needs to score poses.

    probs : (K, X, Y, Z) float32 probabilities; ``probs[k, i, j, l]`` at ``origin + (i, j, l) * resolution``
    origin : (3,) Å, centre of voxel [0, 0, 0]; resolution : Å
    class_names : K names; rec_xyz : (M, 3) Å receptor heavy atoms; rec_rad : (M,) Å vdW radii
    """

    probs: np.ndarray
    origin: np.ndarray
    resolution: float
    class_names: tuple
    rec_xyz: np.ndarray
    rec_rad: np.ndarray
    info: dict = field(default_factory=dict)
    _tree: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.probs = np.ascontiguousarray(self.probs, np.float32)
        self.origin = np.asarray(self.origin, np.float64).reshape(3)
        self.rec_xyz = np.asarray(self.rec_xyz, np.float64).reshape(-1, 3)
        self.rec_rad = np.asarray(self.rec_rad, np.float32).reshape(-1)
        self.class_names = tuple(str(c) for c in self.class_names)
        if self.probs.ndim != 4 or self.probs.shape[0] != len(self.class_names):
            raise ValueError(f"maps must be (K, X, Y, Z) with K = {len(self.class_names)} class names, "
                             f"got {self.probs.shape}")

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_tree"] = None  # rebuilt lazily in each worker (cheap, ~ms)
        return d

    @property
    def tree(self):
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self.rec_xyz)
        return self._tree

    @property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) Å corners of the cube the voxels tile (lattice grown by half a voxel)."""
        h = 0.5 * self.resolution
        return self.origin - h, self.origin + (np.array(self.probs.shape[1:]) - 1) * self.resolution + h

    def save(self, path) -> None:
        """Write as .npz (atomic): probs, origin, resolution, class_names, receptor atoms."""
        import io

        from pocketvox.cli.common import atomic_write_bytes

        buf = io.BytesIO()
        np.savez(buf, probs=self.probs, origin=self.origin, resolution=np.float64(self.resolution),
                 class_names=np.array(self.class_names), rec_xyz=self.rec_xyz, rec_rad=self.rec_rad)
        atomic_write_bytes(path, buf.getvalue())

    @staticmethod
    def load(path) -> PocketMaps:
        p = Path(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                return PocketMaps(z["probs"], z["origin"], float(z["resolution"]),
                                  tuple(z["class_names"].tolist()), z["rec_xyz"], z["rec_rad"])
        except (OSError, KeyError, ValueError) as e:
            raise InputFileError(f"{p}: not a pocketvox maps file ({e})") from e


def trilinear(probs: np.ndarray, origin: np.ndarray, resolution: float, cls: np.ndarray,
              xyz: np.ndarray) -> np.ndarray:
    """Sample ``probs[cls[i]]`` at ``xyz[i]``: (K, X, Y, Z), (N,) int, (N, 3) Å -> (N,) float64.

    Trilinear interpolation between voxel centres; corners outside the grid count as 0, so values
    fade to 0 over the last half voxel and are 0 beyond.
    """
    n = len(xyz)
    if n == 0:
        return np.zeros(0)
    K, X, Y, Z = probs.shape
    f = (xyz - origin) / resolution
    i0 = np.floor(f).astype(np.int64)
    t = f - i0
    flat = probs.reshape(-1)
    out = np.zeros(n)
    base = cls.astype(np.int64) * (X * Y * Z)
    for dx in (0, 1):
        ix = i0[:, 0] + dx
        wx = t[:, 0] if dx else 1.0 - t[:, 0]
        okx = (ix >= 0) & (ix < X)
        for dy in (0, 1):
            iy = i0[:, 1] + dy
            wy = t[:, 1] if dy else 1.0 - t[:, 1]
            oky = okx & (iy >= 0) & (iy < Y)
            for dz in (0, 1):
                iz = i0[:, 2] + dz
                wz = t[:, 2] if dz else 1.0 - t[:, 2]
                ok = oky & (iz >= 0) & (iz < Z)
                idx = base + (np.clip(ix, 0, X - 1) * Y + np.clip(iy, 0, Y - 1)) * Z + np.clip(iz, 0, Z - 1)
                out += np.where(ok, flat[idx], 0.0) * (wx * wy * wz)
    return out


@dataclass
class ChunkScores:
    """Scores of the P poses of a chunk. ``ok`` false rows are errors (``errors``: row -> reason)."""

    score: np.ndarray  # (P,)
    terms: np.ndarray  # (P, K)
    clash: np.ndarray  # (P,) Å
    ok: np.ndarray  # (P,) bool
    errors: dict


def score_batch(batch: PoseBatch, maps: PocketMaps, params: ScoreParams = ScoreParams(),
                device: str = "cpu") -> ChunkScores:
    """Score every pose of ``batch`` against ``maps`` (see module docstring)."""
    P, K = len(batch.index), len(maps.class_names)
    ok = batch.ok.copy()
    errors = dict(batch.errors)

    # outside the pocket: too few heavy atoms inside the map box
    lo, hi = maps.box
    inside = np.all((batch.hv_xyz >= lo) & (batch.hv_xyz <= hi), axis=1)
    n_in = np.bincount(batch.hv_pose, weights=inside, minlength=P)
    n_hv = np.maximum(batch.n_heavy, 1)
    frac = n_in / n_hv
    out_rows = np.flatnonzero(ok & ((frac < params.min_inside) | (batch.n_heavy == 0)))
    for i in out_rows:
        errors[int(i)] = (f"outside the pocket: {int(n_in[i])} of {int(batch.n_heavy[i])} heavy atoms "
                          f"inside the {hi[0] - lo[0]:.0f} Å map box (needs {params.min_inside:.0%})")
    ok[out_rows] = False

    # interaction terms: one (point, class) pair per matching feature, sampled in one call
    masks = np.array([class_mask(c) for c in maps.class_names], np.uint8)
    hit = (batch.pt_bits[:, None] & masks[None, :]) != 0  # (F, K)
    pt, cls = np.nonzero(hit)
    vals = _sample(maps, cls, batch.pt_xyz[pt], device)
    pose = batch.pt_pose[pt].astype(np.int64)
    terms = np.bincount(pose * K + cls, weights=vals, minlength=P * K).reshape(P, K)

    # clash: k nearest receptor heavy atoms within the largest possible threshold
    clash = np.zeros(P)
    if len(batch.hv_xyz) and len(maps.rec_xyz):
        rmax = params.clash_scale * (float(batch.hv_rad.max()) + float(maps.rec_rad.max()))
        k = min(params.clash_neighbors, len(maps.rec_xyz))
        d, j = maps.tree.query(batch.hv_xyz, k=k, distance_upper_bound=rmax)
        d, j = d.reshape(len(d), k), j.reshape(len(j), k)
        found = j < len(maps.rec_xyz)
        thr = params.clash_scale * (batch.hv_rad[:, None] + maps.rec_rad[np.where(found, j, 0)])
        overlap = np.where(found, np.maximum(0.0, thr - np.where(found, d, 0.0)), 0.0).sum(1)
        clash = np.bincount(batch.hv_pose, weights=overlap, minlength=P)

    score = combine(terms, clash, batch.n_heavy, maps.class_names, params)
    score[~ok] = np.nan
    return ChunkScores(score=score, terms=terms, clash=clash, ok=ok, errors=errors)


def combine(terms: np.ndarray, clash: np.ndarray, n_heavy: np.ndarray, class_names, params: ScoreParams):
    """(P, K) terms, (P,) clash Å, (P,) heavy atoms -> (P,) scores (module docstring)."""
    w = np.array([params.weight(c) for c in class_names])
    raw = terms @ w - params.clash_weight * clash
    if params.size_exponent == 0:
        return raw
    return raw / np.maximum(np.asarray(n_heavy, np.float64), 1.0) ** params.size_exponent


def _sample(maps: PocketMaps, cls: np.ndarray, xyz: np.ndarray, device: str) -> np.ndarray:
    if device == "cpu" or len(xyz) == 0:
        return trilinear(maps.probs, maps.origin, maps.resolution, cls, xyz)
    return _trilinear_torch(maps, cls, xyz, device)


_TORCH_MAPS: dict = {}


def _trilinear_torch(maps: PocketMaps, cls, xyz, device) -> np.ndarray:
    """Same interpolation as :func:`trilinear` with torch on ``device`` (maps cached on the device)."""
    import torch

    key = (id(maps), device)
    if key not in _TORCH_MAPS:
        _TORCH_MAPS.clear()
        _TORCH_MAPS[key] = torch.from_numpy(maps.probs.astype(np.float64)).to(device).reshape(-1)
    flat = _TORCH_MAPS[key]
    K, X, Y, Z = maps.probs.shape
    f = (torch.from_numpy(xyz).to(device) - torch.from_numpy(maps.origin).to(device)) / maps.resolution
    i0 = torch.floor(f).long()
    t = f - i0
    base = torch.from_numpy(cls.astype(np.int64)).to(device) * (X * Y * Z)
    out = torch.zeros(len(xyz), dtype=torch.float64, device=device)
    dims = torch.tensor([X, Y, Z], device=device)
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                d = torch.tensor([dx, dy, dz], device=device)
                ii = i0 + d
                ok = ((ii >= 0) & (ii < dims)).all(1)
                ii = torch.minimum(torch.clamp(ii, min=0), dims - 1)
                w = torch.where(d.bool(), t, 1.0 - t).prod(1)
                idx = base + (ii[:, 0] * Y + ii[:, 1]) * Z + ii[:, 2]
                out += torch.where(ok, flat[idx], torch.zeros_like(w)) * w
    return out.cpu().numpy()
