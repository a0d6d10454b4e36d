"""Baselines that ignore learning, scored like the model (same grids, same metrics).

**Complex mode** — "every ligand atom of the matching type interacts": voxels within the label radius
(1.5 Å, as the labels) of

- hbond: every ligand donor or acceptor heavy atom;
- hydrophobic: every ligand hydrophobic carbon (carbon bonded only to C/H, PLIP's rule);
- pistacking: every ligand aromatic ring centroid.

**Pocket mode** — a geometric propensity rule from protein atoms within the box (no ligand used).
A voxel is a candidate for a class when it is free (no protein heavy-atom centre closer than
``clash`` Å) and

- hbond: 2.6–3.4 Å from a protein donor or acceptor atom (PLIP's hbond distance ≤ 4.1 Å donor–acceptor;
  observed N/O···O/N distances cluster at 2.8–3.2 Å);
- hydrophobic: 3.4–4.4 Å from a protein hydrophobic carbon (PLIP's contact ≤ 4.0 Å; carbon vdW
  contact 3.4 Å);
- pistacking: 3.4–4.6 Å from an aromatic ring centroid within 30° of its normal (parallel stacking
  geometry; PLIP: centroid distance ≤ 5.5 Å, angle deviation 30°, offset ≤ 2.0 Å);

and it lies inside the pocket: its buriedness (protein heavy atoms within ``bury_radius`` Å) is at
least ``min_buried``. The score of a candidate voxel is its buriedness scaled to [0, 1] (0 elsewhere),
so AP ranks buried candidates first; a voxel is called positive when the score ≥ ``threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PocketRuleParams:
    """Distances in Å; counts of atoms. Sources as in the module docstring."""

    clash: float = 2.6
    hbond_range: tuple[float, float] = (2.6, 3.4)
    hydrophobic_range: tuple[float, float] = (3.4, 4.4)
    stacking_range: tuple[float, float] = (3.4, 4.6)
    stacking_cos: float = 0.866  # cos 30°
    bury_radius: float = 8.0
    min_buried: int = 55
    max_buried: int = 110  # buriedness at which the score saturates at 1
    threshold: float = 0.5


def _points(spec) -> np.ndarray:
    ax = spec.axes()
    g = np.stack(np.meshgrid(*ax, indexing="ij"), -1)
    return g.reshape(-1, 3)


def complex_baseline(lig_coords, lig_types, lig_rings, spec, classes, radius: float = 1.5) -> np.ndarray:
    """(K, X, Y, Z) float32 in {0, 1}. lig_types: (N, 8) bool atom kinds (grid.ATOM_KINDS order:
    hydrophobic, aromatic, donor, acceptor, positive, negative, metal, occupancy)."""
    from pocketvox.grid import LabelParams, label_grid

    pts, memb = [], []
    k = len(classes)
    for ci, c in enumerate(classes):
        if c.startswith("hbond"):
            sel = lig_types[:, 2] | lig_types[:, 3]
            p = lig_coords[sel]
        elif c == "hydrophobic":
            p = lig_coords[lig_types[:, 0]]
        elif c in ("pistacking", "pication"):
            p = np.asarray(lig_rings, np.float64).reshape(-1, 3)
        elif c == "halogen":
            p = np.zeros((0, 3))
        else:  # saltbridge: charged atoms
            p = lig_coords[lig_types[:, 4] | lig_types[:, 5]]
        m = np.zeros((len(p), k), bool)
        m[:, ci] = True
        pts.append(np.asarray(p, np.float64).reshape(-1, 3))
        memb.append(m)
    return label_grid(np.concatenate(pts), np.concatenate(memb), spec, LabelParams(radius=radius)).astype(np.float32)


def pocket_baseline(prot_coords, prot_types, ring_centers, ring_normals, spec, classes,
                    params: PocketRuleParams | None = None) -> np.ndarray:
    """(K, X, Y, Z) float32 scores in [0, 1] from protein atoms only (see module docstring).
    prot_types: (N, 8) bool atom kinds."""
    from scipy.spatial import cKDTree

    p = params or PocketRuleParams()
    pts = _points(spec)
    shape = spec.shape
    out = np.zeros((len(classes), *shape), np.float32)
    if len(prot_coords) == 0:
        return out
    tree = cKDTree(prot_coords)
    d_any, _ = tree.query(pts, k=1)
    free = d_any >= p.clash
    bury = np.asarray(tree.query_ball_point(pts, p.bury_radius, return_length=True))
    score = np.clip((bury - p.min_buried) / max(p.max_buried - p.min_buried, 1), 0, 1) * 0.5 + 0.5
    score = np.where(bury >= p.min_buried, score, 0.0)

    def within(sel, lo, hi):
        if not np.any(sel):
            return np.zeros(len(pts), bool)
        d, _ = cKDTree(prot_coords[sel]).query(pts, k=1)
        return (d >= lo) & (d <= hi)

    for ci, c in enumerate(classes):
        if c.startswith("hbond"):
            cand = within(prot_types[:, 2] | prot_types[:, 3], *p.hbond_range)
        elif c == "hydrophobic":
            cand = within(prot_types[:, 0], *p.hydrophobic_range)
        elif c in ("pistacking", "pication"):
            cand = np.zeros(len(pts), bool)
            if len(ring_centers):
                # (R, V) geometry: rings within a pocket box are few (tens), voxels ~10⁴
                v = pts[None, :, :] - np.asarray(ring_centers)[:, None, :]
                d = np.linalg.norm(v, axis=2)
                cos = np.abs(np.einsum("rvi,ri->rv", v, np.asarray(ring_normals))) / np.maximum(d, 1e-9)
                ok = (d >= p.stacking_range[0]) & (d <= p.stacking_range[1]) & (cos >= p.stacking_cos)
                cand = ok.any(0)
        else:
            cand = np.zeros(len(pts), bool)
        out[ci] = np.where(cand & free, score, 0.0).reshape(shape)
    return out
