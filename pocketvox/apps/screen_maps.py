"""Knowledge-based pocket maps from the receptor alone: a transparent, model-free reference.

For each voxel of the pocket box and each interaction class, the map holds how many suitably typed
receptor partners a ligand atom (or ring centre) at that voxel would have within PLIP's distance
window, squashed to [0, 1) as ``1 - exp(-count / n_half)``; voxels closer than ``exclusion`` Å to a
receptor heavy atom (inside the protein) are 0. Angles are ignored. These maps let ``pocketvox
screen --maps geometric`` rank poses without a trained network, and they are the baseline the learned
maps must beat in benchmarks/screening.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pocketvox.apps.screen_read import vdw_radii
from pocketvox.apps.screen_score import PocketMaps


@dataclass(frozen=True)
class GeometricMapParams:
    """Distance windows (Å) per class, PLIP's maxima (Salentin et al. 2015; see
    :class:`pocketvox.interactions.config.ProfilerConfig`), and the squashing scale.

    hbond : (2.5, 4.1) to receptor donors/acceptors; hydrophobic : (3.3, 4.0) to receptor hydrophobic
    carbons; pistacking : (3.4, 5.5) to receptor aromatic ring centres; saltbridge : (2.5, 5.5) to
    receptor charged-group centres; pication : (3.0, 6.0) to receptor rings and cations; halogen :
    (2.8, 4.0) to receptor acceptors. exclusion : Å, receptor heavy atoms closer than this make a
    voxel unreachable (about 0.75 × the C–O vdW contact). n_half : partners giving 1 - 1/e.
    """

    hbond: tuple = (2.5, 4.1)
    hydrophobic: tuple = (3.3, 4.0)
    pistacking: tuple = (3.4, 5.5)
    saltbridge: tuple = (2.5, 5.5)
    pication: tuple = (3.0, 6.0)
    halogen: tuple = (2.8, 4.0)
    exclusion: float = 2.6
    n_half: float = 2.0


#: Direction-aware classes: each is sampled only at the ligand features that can pair with its
#: receptor partners (e.g. ligand cations in the map of receptor anions).
DEFAULT_CLASSES = ("hbond_ligand_donor", "hbond_ligand_acceptor", "hydrophobic", "pistacking",
                   "saltbridge_ligand_positive", "saltbridge_ligand_negative", "pication_ligand_cation",
                   "pication_ligand_ring", "halogen")


def _count(points: np.ndarray, partners: np.ndarray, window) -> np.ndarray:
    from scipy.spatial import cKDTree

    if len(partners) == 0:
        return np.zeros(len(points))
    t = cKDTree(partners)
    hi = t.query_ball_point(points, r=window[1], return_length=True)
    lo = t.query_ball_point(points, r=window[0], return_length=True)
    return (hi - lo).astype(np.float64)


def geometric_maps(protein, center, size: float = 24.0, resolution: float = 1.0,
                   classes=DEFAULT_CLASSES, params: GeometricMapParams = GeometricMapParams()) -> PocketMaps:
    """Maps for ``classes`` in a cube of edge ``size`` Å around ``center`` from a typed receptor
    :class:`~pocketvox.structure.atoms.AtomTable` (flags from ``structure.typing.type_protein``)."""
    from pocketvox.grid.spec import GridSpec

    spec = GridSpec(tuple(np.asarray(center, float)), size, resolution)
    ax = spec.axes()
    X, Y, Z = np.meshgrid(*ax, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel(), Z.ravel()], 1)
    heavy = protein.heavy
    xyz = protein.coords
    rings = protein.ring_centers()
    groups = protein.group_centers()
    sign = np.asarray(protein.group_sign)
    polar = xyz[heavy & (protein.donor | protein.acceptor)]
    partners = {
        "hbond": (polar, params.hbond),
        "hbond_ligand_donor": (xyz[heavy & protein.acceptor], params.hbond),
        "hbond_ligand_acceptor": (xyz[heavy & protein.donor], params.hbond),
        "hydrophobic": (xyz[heavy & protein.hydrophobic], params.hydrophobic),
        "pistacking": (rings, params.pistacking),
        "saltbridge": (groups, params.saltbridge),
        "pication": (np.concatenate([rings, groups[sign > 0]]), params.pication),
        "halogen": (xyz[heavy & protein.acceptor], params.halogen),
        "saltbridge_ligand_positive": (groups[sign < 0], params.saltbridge),
        "saltbridge_ligand_negative": (groups[sign > 0], params.saltbridge),
        "pication_ligand_cation": (rings, params.pication),
        "pication_ligand_ring": (groups[sign > 0], params.pication),
    }
    from scipy.spatial import cKDTree

    free = cKDTree(xyz[heavy]).query(pts, k=1, distance_upper_bound=params.exclusion)[0] > params.exclusion
    out = np.zeros((len(classes), *spec.shape), np.float32)
    for k, c in enumerate(classes):
        if c not in partners:
            continue
        p, w = partners[c]
        n = _count(pts, p, w)
        out[k] = ((1.0 - np.exp(-n / params.n_half)) * free).reshape(spec.shape)
    return PocketMaps(out, spec.origin, resolution, tuple(classes), xyz[heavy], vdw_radii(protein.element[heavy]),
                      info={"maps": "geometric", "center": [float(v) for v in spec.center]})
