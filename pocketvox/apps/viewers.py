"""Files for the viewers structural biologists already use: PDB snippets, PyMOL ``.pml`` and
ChimeraX ``.cxc`` scripts that load the structure, the ligand, the predicted maps as isosurfaces and
the hotspots in one command, and a PNG figure for a quick look.

Every path written into a script is relative to the script's folder (so the output folder can be
moved) except the input structure, which is referenced by absolute path.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pocketvox.atomic import atomic_write_text

#: Colours per class, shared by PyMOL, ChimeraX and the PNG (hex RGB).
CLASS_COLORS = {
    "hbond": "#1f77b4",
    "hbond_ligand_donor": "#1f77b4",
    "hbond_ligand_acceptor": "#d62728",
    "hydrophobic": "#ff9f1c",
    "pistacking": "#2ca02c",
    "saltbridge": "#9467bd",
    "halogen": "#17becf",
    "pication": "#e377c2",
}


def _color(name: str) -> str:
    return CLASS_COLORS.get(name, "#7f7f7f")


def atoms_pdb_block(atoms, hetero: bool = True) -> str:
    """PDB records of an AtomTable (coordinates in Å, frame of the input)."""
    rec = "HETATM" if hetero else "ATOM  "
    lines = []
    for i in range(len(atoms)):
        name = str(atoms.name[i]) or f"{atoms.element[i]}{i + 1}"
        name = f" {name:<3s}" if len(name) < 4 and len(atoms.element[i]) == 1 else f"{name:<4s}"
        x, y, z = atoms.coords[i]
        lines.append(
            f"{rec}{i + 1:5d} {name[:4]} {str(atoms.res_name[i])[:3]:>3s} {str(atoms.chain[i])[:1]:1s}"
            f"{int(atoms.res_num[i]):4d}    {x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00          "
            f"{str(atoms.element[i]).capitalize():>2s}"
        )
    return "\n".join(lines) + "\nEND\n"


def hotspots_pdb_block(hotspots) -> str:
    """Hotspot centres as pseudo-atoms: residue name = class code, B-factor = peak probability."""
    codes = {"hbond": "HBD", "hydrophobic": "HYD", "pistacking": "PIS", "saltbridge": "SLT",
             "halogen": "HAL", "pication": "PCA", "hbond_ligand_donor": "HDN", "hbond_ligand_acceptor": "HAC"}
    lines = []
    for i, h in enumerate(hotspots):
        x, y, z = h.center
        lines.append(
            f"HETATM{i + 1:5d}  C   {codes.get(h.cls, 'HOT'):>3s} X{i + 1:4d}    {x:8.3f}{y:8.3f}{z:8.3f}"
            f"  1.00{min(h.probability * 100, 999.99):6.2f}           C"
        )
    return "\n".join(lines) + "\nEND\n"


def write_pml(path, structure: str, ligand_file: str | None, maps: dict[str, str], levels: dict[str, float],
              hotspots_file: str | None) -> None:
    """PyMOL script: ``pymol view.pml``."""
    out = ["# pocketvox prediction: load with `pymol view.pml`", "set ray_opaque_background, 0",
           f"load {structure}, receptor", "hide everything, receptor", "show cartoon, receptor",
           "color grey80, receptor"]
    if ligand_file:
        out += [f"load {ligand_file}, ligand", "show sticks, ligand", "color magenta, ligand and elem C"]
    for name, f in maps.items():
        hexcol = _color(name).lstrip("#")
        out += [f"load {f}, pred_{name}", f"isosurface surf_{name}, pred_{name}, {levels[name]:.3f}",
                f"set_color col_{name}, [{int(hexcol[0:2], 16)}, {int(hexcol[2:4], 16)}, {int(hexcol[4:6], 16)}]",
                f"color col_{name}, surf_{name}", f"set transparency, 0.4, surf_{name}"]
    if hotspots_file:
        out += [f"load {hotspots_file}, hotspots", "show spheres, hotspots", "set sphere_scale, 0.4, hotspots",
                "color white, hotspots"]
        out += ["show sticks, byres (receptor within 4.5 of hotspots)"]
    out += ["zoom " + ("ligand" if ligand_file else "hotspots") + ", 8"]
    atomic_write_text(path, "\n".join(out) + "\n")


def write_cxc(path, structure: str, ligand_file: str | None, maps: dict[str, str], levels: dict[str, float],
              hotspots_file: str | None) -> None:
    """ChimeraX script: ``chimerax view.cxc``. Models: #1 receptor, #2 ligand, then maps, hotspots."""
    out = ["# pocketvox prediction: open with `chimerax view.cxc`", f"open {structure}",
           "cartoon #1", "hide #1 atoms", "color #1 lightgray"]
    model = 2
    if ligand_file:
        out += [f"open {ligand_file}", f"show #{model} atoms", f"style #{model} stick", f"color #{model} magenta"]
        model += 1
    for name, f in maps.items():
        out += [f"open {f}", f"volume #{model} style surface level {levels[name]:.3f} color {_color(name)} "
                f"transparency 0.4"]
        model += 1
    if hotspots_file:
        out += [f"open {hotspots_file}", f"style #{model} sphere", f"size #{model} atomRadius 0.6",
                f"color #{model} white"]
    out += ["view"]
    atomic_write_text(path, "\n".join(out) + "\n")


def rel(path, start) -> str:
    return os.path.relpath(Path(path).resolve(), Path(start).resolve())


def write_figure(path, probs: np.ndarray, spec, class_names, ligand=None, hotspots=None) -> None:
    """PNG: per class, maximum-intensity projections along Z (X-Y plane) with ligand atoms and
    hotspot centres drawn; axes in Å."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(class_names)
    fig, axes = plt.subplots(1, k, figsize=(3.8 * k + 1.0, 3.6), squeeze=False, layout="constrained")
    o = spec.origin
    n = spec.shape[0]
    ext = [o[0], o[0] + (n - 1) * spec.resolution, o[1], o[1] + (n - 1) * spec.resolution]
    for i, name in enumerate(class_names):
        ax = axes[0, i]
        im = ax.imshow(probs[i].max(axis=2).T, origin="lower", extent=ext, vmin=0, vmax=1, cmap="viridis")
        if ligand is not None and len(ligand):
            inside = spec.contains(ligand.coords)
            ax.scatter(ligand.coords[inside, 0], ligand.coords[inside, 1], s=8, c="magenta", label="ligand")
        if hotspots:
            hs = [h for h in hotspots if h.cls == name]
            if hs:
                c = np.array([h.center for h in hs])
                ax.scatter(c[:, 0], c[:, 1], s=40, facecolors="none", edgecolors="white", linewidths=1.2)
        ax.set_title(f"{name} (max over z)")
        ax.set_xlabel("x (Å)")
        ax.set_ylabel("y (Å)")
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="probability")
    tmp = Path(path).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
