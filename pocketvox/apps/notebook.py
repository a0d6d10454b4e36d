"""Jupyter helpers: an interactive 3D view (py3Dmol) and matplotlib slice plots of a prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pocketvox.apps.viewers import CLASS_COLORS, atoms_pdb_block


def view_3d(result, width: int = 720, height: int = 480, surface_level: float | None = None):
    """py3Dmol view of receptor (cartoon + lining residues), ligand (sticks) and hotspots (spheres
    coloured by class, radius growing with probability). Needs the ``viz`` extra (py3Dmol)."""
    try:
        import py3Dmol
    except ImportError as e:  # pragma: no cover - optional dependency
        raise ImportError("view_3d needs py3Dmol: pip install 'pocketvox[viz]'") from e
    view = py3Dmol.view(width=width, height=height)
    prot = result.protein
    near = np.zeros(len(prot), bool)
    if result.hotspots:
        from scipy.spatial import cKDTree

        c = np.array([h.center for h in result.hotspots])
        near[np.unique(np.concatenate(cKDTree(prot.coords).query_ball_point(c, 5.0)).astype(int))] = True
    view.addModel(atoms_pdb_block(prot, hetero=False), "pdb")
    view.setStyle({"model": 0}, {"cartoon": {"color": "lightgrey"}})
    if near.any():
        keys = prot.residue_keys()[near]
        resi = sorted({int(k.split(":")[1].rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for k in keys})
        view.addStyle({"model": 0, "resi": resi}, {"stick": {"radius": 0.12, "colorscheme": "greyCarbon"}})
    m = 1
    if result.complex is not None:
        view.addModel(atoms_pdb_block(result.complex.ligand), "pdb")
        view.setStyle({"model": m}, {"stick": {"colorscheme": "magentaCarbon"}})
        m += 1
    for h in result.hotspots:
        x, y, z = h.center
        view.addSphere({"center": {"x": x, "y": y, "z": z}, "radius": 0.4 + 0.8 * h.probability,
                        "color": CLASS_COLORS.get(h.cls, "grey"), "opacity": 0.8})
    view.zoomTo({"model": 1} if result.complex is not None else {})
    return view


def plot_slices(result, axis: str = "z", index: int | None = None, classes=None):
    """One matplotlib panel per class: the probability map on a plane through the grid (default the
    centre plane), ligand atoms within 1 voxel of the plane drawn on top. Returns the Figure."""
    import matplotlib.pyplot as plt

    ax_i = "xyz".index(axis)
    spec = result.spec
    n = spec.shape[ax_i]
    index = n // 2 if index is None else int(index)
    classes = list(result.class_names) if classes is None else list(classes)
    fig, axes = plt.subplots(1, len(classes), figsize=(3.6 * len(classes), 3.4), squeeze=False)
    other = [i for i in range(3) if i != ax_i]
    o, r = spec.origin, spec.resolution
    ext = [o[other[0]], o[other[0]] + (spec.shape[other[0]] - 1) * r, o[other[1]],
           o[other[1]] + (spec.shape[other[1]] - 1) * r]
    plane = o[ax_i] + index * r
    for j, name in enumerate(classes):
        k = list(result.class_names).index(name)
        sl = np.take(result.probs[k], index, axis=ax_i)
        ax = axes[0, j]
        ax.imshow(sl.T, origin="lower", extent=ext, vmin=0, vmax=1, cmap="magma")
        if result.complex is not None:
            lc = result.complex.ligand.coords
            near = np.abs(lc[:, ax_i] - plane) <= r
            ax.scatter(lc[near, other[0]], lc[near, other[1]], s=10, c="cyan")
        ax.set_title(f"{name}, {axis} = {plane:.1f} Å")
        ax.set_xlabel(f"{'xyz'[other[0]]} (Å)")
        ax.set_ylabel(f"{'xyz'[other[1]]} (Å)")
    fig.tight_layout()
    return fig


def example_path(name: str) -> Path:
    """Path of a bundled example (``data/examples``) in a source checkout."""
    p = Path(__file__).resolve().parents[2] / "data" / "examples" / name
    if not p.exists():
        raise FileNotFoundError(f"bundled example {name} not found at {p}")
    return p
