"""Per-voxel interaction labels: where each interaction class forms, as multi-label binary grids.

Each detected interaction (a row of :class:`~pocketvox.interactions.result.InteractionSet`) marks
the voxels whose centres lie within ``LabelParams.radius`` Å of its **ligand-side point**:

* hbond — the ligand's donor or acceptor heavy atom;
* hydrophobic — the ligand's carbon (or halogen) atom in contact;
* pistacking, pication (ligand ring) — the ligand ring centroid;
* saltbridge, pication (ligand charge) — the ligand charged group's centre;
* halogen — the ligand's halogen atom.

So a label sphere sits on the ligand atom (or ring centre) that makes the interaction: the network
learns *which part of the pocket's ligand-space is an H-bond / hydrophobic / stacking site*. Classes
are independent channels; a voxel may carry several (multi-label). Optional classes split hbond by
direction (``hbond_ligand_donor``: the ligand gives the hydrogen; ``hbond_ligand_acceptor``: the
protein does) and add the other interaction types. ``docs/grids.md`` has a figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pocketvox.errors import PocketvoxError

#: Default label classes (the three most frequent PLIP interaction families).
DEFAULT_LABEL_CLASSES: tuple[str, ...] = ("hbond", "hydrophobic", "pistacking")
#: Every class name accepted, with its meaning.
LABEL_CLASS_DOC: dict[str, str] = {
    "hbond": "hydrogen bond, either direction (ligand donor or acceptor atom)",
    "hbond_ligand_donor": "hydrogen bond where the ligand donates the hydrogen (ligand donor atom)",
    "hbond_ligand_acceptor": "hydrogen bond where the protein donates (ligand acceptor atom)",
    "hydrophobic": "hydrophobic contact (ligand carbon/halogen atom)",
    "pistacking": "pi-stacking, parallel or T-shaped (ligand ring centroid)",
    "saltbridge": "salt bridge (ligand charged-group centre)",
    "halogen": "halogen bond (ligand halogen atom)",
    "pication": "pi-cation, either side (ligand ring centroid or charge centre)",
}
ALL_LABEL_CLASSES: tuple[str, ...] = tuple(LABEL_CLASS_DOC)


@dataclass(frozen=True)
class LabelParams:
    """Label geometry.

    radius : Å around the ligand-side point. 1.5 Å is about one heavy atom's van der Waals radius
        (Bondi C 1.70, N 1.55, O 1.52 Å): the sphere covers the interacting atom and not its bonded
        neighbours' centres (bonds are 1.2–1.5 Å, so a neighbour centre is at the rim at most). At
        1.0 Å resolution a 1.5 Å sphere holds 8–19 voxel centres wherever the point falls, so every
        interaction is labelled by several voxels.
    """

    radius: float = 1.5


class LabelClassError(PocketvoxError):
    """An unknown label class name."""


def check_classes(classes) -> tuple[str, ...]:
    classes = tuple(str(c) for c in classes)
    bad = [c for c in classes if c not in LABEL_CLASS_DOC]
    if bad:
        raise LabelClassError(f"unknown label class {bad[0]!r}; choose from {', '.join(ALL_LABEL_CLASSES)}")
    if len(set(classes)) != len(classes):
        raise LabelClassError(f"label classes repeat: {classes}")
    return classes


def class_membership(types: np.ndarray, protein_is_donor: np.ndarray, classes) -> np.ndarray:
    """(M,) interaction types + (M,) hbond direction -> (M, K) bool: which label classes each
    interaction feeds (an hbond feeds ``hbond`` and one of the split channels when requested)."""
    classes = check_classes(classes)
    t = np.asarray(types).astype(str)
    pdon = np.asarray(protein_is_donor, bool)
    m = np.zeros((len(t), len(classes)), bool)
    for k, c in enumerate(classes):
        if c == "hbond_ligand_donor":
            m[:, k] = (t == "hbond") & ~pdon
        elif c == "hbond_ligand_acceptor":
            m[:, k] = (t == "hbond") & pdon
        else:
            m[:, k] = t == c
    return m


def label_arrays(interactions, classes=DEFAULT_LABEL_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """An InteractionSet -> ``(points (M, 3) float64 Å, membership (M, K) bool)`` for
    :func:`label_grid`; this is the compact form a dataset cache stores."""
    if interactions is None or len(interactions) == 0:
        return np.zeros((0, 3)), np.zeros((0, len(check_classes(classes))), bool)
    memb = class_membership(interactions.type, interactions.protein_is_donor, classes)
    return np.asarray(interactions.ligand_point, np.float64), memb


def label_grid(
    points: np.ndarray, membership: np.ndarray, spec, params: LabelParams | None = None
) -> np.ndarray:
    """Mark voxels within ``params.radius`` Å of each point in the channels it belongs to.

    points : (M, 3) Å (already transformed like the atoms); membership : (M, K) bool.
    Returns (K, X, Y, Z) uint8 in {0, 1}.
    """
    params = params or LabelParams()
    membership = np.asarray(membership, bool)
    k = membership.shape[1]
    n = spec.n
    out = np.zeros((k, n, n, n), np.uint8)
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    if len(pts) == 0:
        return out
    res = spec.resolution
    w = int(2 * params.radius / res) + 2
    first = np.ceil((pts - params.radius - spec.origin) / res).astype(np.int64)  # (M, 3)
    off = np.stack(np.meshgrid(np.arange(w), np.arange(w), np.arange(w), indexing="ij"), -1).reshape(-1, 3)
    idx = first[:, None, :] + off[None]  # (M, w³, 3)
    d2 = ((spec.origin + idx * res - pts[:, None, :]) ** 2).sum(-1)
    ok = (d2 <= params.radius**2) & np.all((idx >= 0) & (idx < n), axis=-1)
    m_i, v_i = np.nonzero(ok)
    pairs_m, pairs_k = np.nonzero(membership[m_i])  # expand each voxel hit over its point's classes
    vox = idx[m_i[pairs_m], v_i[pairs_m]]
    out[pairs_k, vox[:, 0], vox[:, 1], vox[:, 2]] = 1
    return out
