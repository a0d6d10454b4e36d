"""Draw docs/grid_labels.png: label geometry on a real complex (PoseBusters 7N03, PLIP 3.0.1 contacts).

Left: the density profile of one atom (libmolgrid's Gaussian with quadratic tail). Right: one
slice of the grid through the ligand: ligand occupancy density (grey), protein occupancy (contours),
label voxels of each class (coloured squares) and the ligand-side interaction points (crosses).

    .venv/bin/python docs/make_grid_figures.py [--out docs/grid_labels.png]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POCKETVOX_SHARED", ROOT.parent / "shared"))
PDB_ID = "7N03"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "grid_labels.png"))
    a = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from pocketvox.grid.kernels import density_profile
    from pocketvox.grid.labels import LabelParams
    from pocketvox.grid.spec import GridSpec
    from pocketvox.grid.voxelize import default_spec, voxelize
    from pocketvox.interactions.result import InteractionSet
    from pocketvox.structure import load_complex

    d = SHARED / "data" / "posebusters" / PDB_ID
    cx = load_complex(d / f"{PDB_ID}_protein.pdb", ligand_file=d / f"{PDB_ID}_ligand.sdf")
    ref = json.loads((SHARED / "reference" / "posebusters_plip.json").read_text())["complexes"][PDB_ID]
    rows = []
    for kind, key in (("hbond", "ligand_atom_coords"), ("hydrophobic", "ligand_atom_coords"),
                      ("pistacking", "ligand_ring_center")):
        for r in ref["interactions"][kind]:
            rows.append(dict(type=kind, ligand_point=r[key], protein_point=(0, 0, 0),
                             protein_is_donor=bool(r.get("protein_is_donor", False))))
    inter = InteractionSet.build(rows)
    spec0 = default_spec(cx, resolution=0.5)
    spec = GridSpec(spec0.center, 16.0, 0.5)
    g = voxelize(cx, inter, spec=spec)

    # slice (z index) showing the most label classes, then the most label voxels
    score = g.labels.any(axis=(1, 2)).sum(0) * 1_000_000 + g.labels.sum(axis=(0, 1, 2))
    z = int(np.argmax(score))
    xs, ys, _ = spec.axes()
    ext = [xs[0] - 0.25, xs[-1] + 0.25, ys[0] - 0.25, ys[-1] + 0.25]

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 5.6), gridspec_kw={"width_ratios": [1, 1.5]})
    x = np.linspace(0, 1.7, 400)
    ax0.plot(x, density_profile(x), color="k")
    ax0.axvline(1.0, ls=":", color="grey")
    ax0.axvline(1.5, ls=":", color="grey")
    ax0.text(0.6, 0.55, r"$e^{-2x^2}$", fontsize=12)
    ax0.text(1.05, 0.12, r"$e^{-2}(2x-3)^2$", fontsize=11)
    ax0.set_xlabel("x = distance / atomic radius")
    ax0.set_ylabel("density")
    ax0.set_title("Atom density (libmolgrid form)")

    ax1.imshow(g.features[15][:, :, z].T, origin="lower", extent=ext, cmap="Greys", vmin=0, vmax=1.5)
    ax1.contour(xs, ys, g.features[7][:, :, z].T, levels=[0.3], colors="tab:brown", linewidths=0.8)
    colors = {"hbond": "tab:blue", "hydrophobic": "tab:orange", "pistacking": "tab:green"}
    for k, name in enumerate(g.label_names):
        lab = g.labels[k][:, :, z].T.astype(float)
        cmap = ListedColormap([(0, 0, 0, 0), matplotlib.colors.to_rgba(colors[name], 0.45)])
        ax1.imshow(lab, origin="lower", extent=ext, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        pts = inter.ligand_point[inter.type == name]
        near = np.abs(pts[:, 2] - spec.to_coords([0, 0, z])[2]) <= LabelParams().radius
        ax1.scatter(pts[near, 0], pts[near, 1], marker="x", color=colors[name], s=60,
                    label=f"{name} label voxels / ligand-side point")
    ax1.set_xlabel("x (Å)")
    ax1.set_ylabel("y (Å)")
    ax1.set_title(f"{PDB_ID}: slice z = {spec.to_coords([0, 0, z])[2]:.2f} Å, 0.5 Å voxels, label radius "
                  f"{LabelParams().radius} Å")
    ax1.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
