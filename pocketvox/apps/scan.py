"""Whole-protein scan: pocket-mode predictions over the entire protein surface.

One grid covers the protein's bounding box plus :data:`SCAN_PADDING`; the network runs on it tile by
tile (:meth:`Predictor.predict_volume`: halos of the receptive radius, so the result equals an untiled
run) and only the tile is ever in network memory. The input grid itself is ``16 × n³`` float32 — for
a 50,000-atom entry (about 170 Å across at 1 Å) some 330 MB, well under the 4 GB budget.

Hotspots are then looked for only in the protein's solvent shell (:func:`surface_mask`): voxels
between :data:`SHELL_MIN` and :data:`SHELL_MAX` Å from the nearest protein heavy atom, where a ligand
atom could sit.
"""

from __future__ import annotations

import numpy as np

#: Å of solvent added around the protein's bounding box.
SCAN_PADDING = 8.0
#: Å: nearest protein heavy atom closer than this means the voxel is inside the protein's vdW shell.
SHELL_MIN = 2.5
#: Å: farther than this from every protein atom is bulk solvent, where no interaction forms.
SHELL_MAX = 6.0


def scan_spec(protein, resolution: float, multiple: int = 8):
    """A cubic GridSpec over the whole protein, its point count a multiple of ``multiple``."""
    from pocketvox.grid import GridSpec

    c = protein.coords[protein.heavy]
    extent = float((c.max(0) - c.min(0)).max()) + 2 * SCAN_PADDING
    step = multiple * resolution
    size = float(np.ceil(extent / step) * step)
    return GridSpec.from_points(c, size=size, resolution=resolution)


def scan_protein(predictor, protein, tile: int = 48):
    """Pocket-mode :class:`~pocketvox.apps.inference.Prediction` over the whole protein."""
    from pocketvox.apps.inference import Prediction

    spec = scan_spec(protein, predictor.resolution, multiple=max(8, int(getattr(predictor.net, "multiple", 8))))
    feats = predictor.features(protein, spec, "pocket")
    probs = predictor.predict_volume(feats, tile=tile)
    return Prediction(probs.astype(np.float32), spec, predictor.class_names, predictor.thresholds("pocket"), "pocket")


def surface_mask(protein, spec) -> np.ndarray:
    """(X, Y, Z) bool: voxels in the solvent shell around the protein (see module docstring)."""
    from scipy import ndimage

    occ = np.zeros(spec.shape, bool)
    idx = spec.nearest_index(protein.coords[protein.heavy])
    inside = np.all((idx >= 0) & (idx < np.array(spec.shape)), axis=1)
    occ[tuple(idx[inside].T)] = True
    # distance (Å) from each voxel to the nearest voxel holding a protein atom
    dist = ndimage.distance_transform_edt(~occ) * spec.resolution
    return (dist >= SHELL_MIN) & (dist <= SHELL_MAX)
