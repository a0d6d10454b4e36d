"""Hotspots: predicted interaction maps clustered into sites a chemist can read.

For each class, voxels at or above the class threshold are grouped into connected components
(26-connectivity). Each component is a hotspot with a probability-weighted centre (Å), its peak
probability, its volume (Å³) and the protein residues lining it. When a ligand is present, each
hotspot says whether the ligand *satisfies* it: the profiler found an interaction of that class whose
ligand-side point lies inside (or within ``HotspotParams.satisfied_margin`` Å of) the hotspot. The
hotspots a ligand misses are the design opportunities.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class HotspotParams:
    """Hotspot extraction settings.

    min_voxels : smallest component kept (voxels); single-voxel speckle is noise at 1 Å
    residue_radius : Å from any hotspot voxel within which a protein atom's residue lines the site
    satisfied_margin : Å around hotspot voxels within which a ligand interaction point satisfies it
    max_per_class : at most this many hotspots per class, best first
    fallback_relative : when no voxel of a class reaches its calibrated threshold, voxels at or above
        this fraction of the class's highest probability still form hotspots, flagged ``tentative``
        (the strongest sites the model sees, below its validation-chosen operating point); 0 disables
    """

    min_voxels: int = 2
    residue_radius: float = 4.0
    satisfied_margin: float = 1.0
    max_per_class: int = 20
    fallback_relative: float = 0.5


@dataclass(frozen=True)
class Hotspot:
    """One predicted site: ``center`` (3,) Å; ``probability`` peak; ``mean_probability``;
    ``volume`` Å³; ``n_voxels``; ``residues`` lining it ('CHAIN:NUM:RES'); ``satisfied`` by the
    present ligand (None without a ligand); ``tentative`` when found below the class threshold
    (see :attr:`HotspotParams.fallback_relative`)."""

    cls: str
    rank: int
    center: tuple[float, float, float]
    probability: float
    mean_probability: float
    volume: float
    n_voxels: int
    residues: tuple[str, ...]
    satisfied: bool | None = None
    tentative: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d["class"] = d.pop("cls")
        d["center"] = [round(float(x), 3) for x in self.center]
        d["probability"] = round(self.probability, 4)
        d["mean_probability"] = round(self.mean_probability, 4)
        d["volume"] = round(self.volume, 2)
        d["residues"] = list(self.residues)
        return d


def find_hotspots(
    probs: np.ndarray,
    spec,
    class_names,
    thresholds,
    protein=None,
    interactions=None,
    params: HotspotParams | None = None,
    mask: np.ndarray | None = None,
) -> list[Hotspot]:
    """Cluster thresholded probability maps into hotspots.

    probs : (K, X, Y, Z) float, per-class probabilities on ``spec``
    thresholds : (K,) per-class thresholds (the model's, chosen on validation)
    protein : AtomTable for lining residues (optional)
    interactions : InteractionSet of the present ligand, to mark hotspots satisfied (optional)
    mask : (X, Y, Z) bool, voxels allowed to form hotspots (e.g. outside the protein's core)
    """
    from scipy import ndimage
    from scipy.spatial import cKDTree

    params = params or HotspotParams()
    structure = np.ones((3, 3, 3), bool)
    vox_vol = float(spec.resolution) ** 3
    tree = cKDTree(protein.coords) if protein is not None and len(protein) else None
    res_keys = protein.residue_keys() if tree is not None else None
    out: list[Hotspot] = []
    for k, name in enumerate(class_names):
        allowed = np.ones(probs[k].shape, bool) if mask is None else mask
        hot = (probs[k] >= float(thresholds[k])) & allowed
        tentative = False
        if not hot.any() and params.fallback_relative > 0:
            peak_all = float(probs[k][allowed].max()) if allowed.any() else 0.0
            if peak_all > 0:
                hot = (probs[k] >= params.fallback_relative * peak_all) & allowed
                tentative = True
        lab, n = ndimage.label(hot, structure=structure)
        if n == 0:
            continue
        idx = np.arange(1, n + 1)
        sizes = ndimage.sum_labels(hot, lab, idx)
        peak = ndimage.maximum(probs[k], lab, idx)
        mean = ndimage.mean(probs[k], lab, idx)
        keep = np.flatnonzero(sizes >= params.min_voxels)
        # rank by total probability mass: big confident sites first
        mass = sizes[keep] * mean[keep]
        keep = keep[np.argsort(-mass)][: params.max_per_class]
        lig_pts = None
        if interactions is not None and len(interactions):
            sel = _class_rows(interactions, name)
            lig_pts = interactions.ligand_point[sel]
        for rank, comp in enumerate(keep):
            vox = np.argwhere(lab == comp + 1)
            w = probs[k][tuple(vox.T)]
            xyz = spec.to_coords(vox.astype(np.float64))
            center = (xyz * w[:, None]).sum(0) / w.sum()
            residues: tuple[str, ...] = ()
            if tree is not None:
                hits = tree.query_ball_point(xyz, params.residue_radius)
                rows = np.unique(np.concatenate([np.asarray(h, np.int64) for h in hits])) if len(hits) else []
                if len(rows):
                    residues = tuple(_residue_order(np.unique(res_keys[rows])))
            satisfied = None
            if interactions is not None:
                satisfied = False
                if lig_pts is not None and len(lig_pts):
                    d, _ = cKDTree(xyz).query(lig_pts)
                    satisfied = bool((d <= params.satisfied_margin + spec.resolution * 0.5).any())
            out.append(Hotspot(name, rank + 1, tuple(float(c) for c in center), float(peak[comp]),
                               float(mean[comp]), float(sizes[comp]) * vox_vol, int(sizes[comp]),
                               residues, satisfied, tentative))
    return out


def _class_rows(interactions, name: str) -> np.ndarray:
    """Rows of an InteractionSet belonging to a label class (handles the split hbond classes)."""
    t = interactions.type
    if name == "hbond_ligand_donor":
        return (t == "hbond") & ~interactions.protein_is_donor
    if name == "hbond_ligand_acceptor":
        return (t == "hbond") & interactions.protein_is_donor
    return t == name


def _residue_order(keys: np.ndarray) -> list[str]:
    def k(s: str):
        chain, num, _ = s.split(":", 2)
        digits = "".join(c for c in num if c.isdigit() or c == "-")
        return (chain, int(digits) if digits not in ("", "-") else 0, num)

    return sorted((str(x) for x in keys), key=k)


def hotspots_dataframe(hotspots: list[Hotspot]):
    """One row per hotspot as a pandas DataFrame."""
    import pandas as pd

    rows = []
    for h in hotspots:
        d = h.to_dict()
        x, y, z = d.pop("center")
        d.update(x=x, y=y, z=z, residues=" ".join(d["residues"]))
        rows.append(d)
    cols = ["class", "rank", "probability", "mean_probability", "volume", "n_voxels", "x", "y", "z",
            "satisfied", "tentative", "residues"]
    return pd.DataFrame(rows, columns=cols)
