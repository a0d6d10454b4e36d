"""``pocketvox channels`` (list input channels and label classes) and ``pocketvox voxelize``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pocketvox.errors import PocketvoxError


def _parse_center(value: str | None):
    if value is None:
        return None
    try:
        xyz = [float(v) for v in value.replace(" ", "").split(",")]
    except ValueError:
        xyz = []
    if len(xyz) != 3:
        raise click.BadParameter(f"expected x,y,z in Å, got {value!r}", param_hint="--center")
    return tuple(xyz)


@click.command("channels")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--no-ligand", is_flag=True, help="Pocket mode: protein channels only.")
def channels(as_json, no_ligand):
    """List the input channels of a grid and the label classes, with their meaning."""
    from pocketvox.grid.channels import BONDI_RADII, METAL_RADIUS, describe_channels
    from pocketvox.grid.labels import DEFAULT_LABEL_CLASSES, LABEL_CLASS_DOC

    rows = describe_channels(include_ligand=not no_ligand)
    labels = [{"name": k, "default": k in DEFAULT_LABEL_CLASSES, "description": v}
              for k, v in LABEL_CLASS_DOC.items()]
    if as_json:
        click.echo(json.dumps({"channels": rows, "labels": labels}, indent=1))
        return
    click.echo("Input channels (features[C] of grid.npz):")
    for r in rows:
        click.echo(f"  {r['index']:>2}  {r['name']:<24} {r['description']}")
    click.echo("Label classes (labels[K]; default set marked *):")
    for r in labels:
        click.echo(f"   {'*' if r['default'] else ' '} {r['name']:<24} {r['description']}")
    radii = ", ".join(f"{k.capitalize()} {v:.2f}" for k, v in BONDI_RADII.items())
    click.echo(f"Atomic radii, Å (Bondi 1964): {radii}; metal ions {METAL_RADIUS:.2f} (libmolgrid XS).")


@click.command("voxelize")
@click.argument("complex_path", metavar="COMPLEX", type=click.Path(dir_okay=False))
@click.option("--ligand", help="Ligand residue RES:CHAIN:NUM (PLIP notation); automatic if omitted.")
@click.option("--ligand-file", type=click.Path(dir_okay=False),
              help="Ligand SDF/MOL2/PDB in the receptor's frame.")
@click.option("--center", help="Grid centre x,y,z in Å (default: the ligand's centre, lattice-snapped).")
@click.option("--size", type=float, default=None, help="Cube edge in Å [default: 24].")
@click.option("--resolution", type=float, default=None, help="Voxel edge in Å [default: 1.0].")
@click.option("--labels", "label_list", default="hbond,hydrophobic,pistacking", show_default=True,
              help="Comma-separated label classes (see `pocketvox channels`); 'none' for no labels.")
@click.option("--label-radius", type=float, default=1.5, show_default=True,
              help="Label sphere radius around each interaction's ligand-side point, Å.")
@click.option("--no-ligand-channels", is_flag=True, help="Pocket mode: grid the protein channels only.")
@click.option("--channels", "write_channels", is_flag=True, help="Also write one CCP4 map per input channel.")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder.")
def voxelize(complex_path, ligand, ligand_file, center, size, resolution, label_list, label_radius,
             no_ligand_channels, write_channels, out_dir):
    """Grid COMPLEX: OUT/grid.npz (features, labels, origin, spacing, names) and CCP4 maps."""
    import numpy as np

    from pocketvox.grid.ccp4 import write_ccp4
    from pocketvox.grid.labels import LabelParams, check_classes
    from pocketvox.grid.spec import DEFAULT_RESOLUTION, DEFAULT_SIZE, GridSpec
    from pocketvox.grid.voxelize import default_spec
    from pocketvox.grid.voxelize import voxelize as _voxelize
    from pocketvox.structure import load_complex

    ctr = _parse_center(center)
    size = DEFAULT_SIZE if size is None else size
    resolution = DEFAULT_RESOLUTION if resolution is None else resolution
    classes = () if label_list.strip().lower() in ("", "none") else check_classes(
        [c.strip() for c in label_list.split(",") if c.strip()])
    if label_radius <= 0:
        raise click.BadParameter("must be > 0 Å", param_hint="--label-radius")
    cx = load_complex(complex_path, ligand=ligand, ligand_file=ligand_file)
    spec = GridSpec(ctr, size, resolution) if ctr is not None else default_spec(cx, size, resolution)
    inter = None
    if classes:
        from pocketvox.interactions import profile

        inter = profile(cx)
    grid = _voxelize(cx, inter, spec=spec, label_classes=classes or ("hbond",),
                     include_ligand=not no_ligand_channels, label_params=LabelParams(radius=label_radius))
    if not classes:
        grid = type(grid)(grid.features, None, grid.spec, grid.channel_names, ())
    out = Path(out_dir)
    grid.to_npz(out / "grid.npz")
    written = ["grid.npz"]
    if grid.labels is not None:
        for k, name in enumerate(grid.label_names):
            lab_map = grid.labels[k].astype(np.float32)
            write_ccp4(out / f"label_{name}.ccp4", lab_map, spec.origin, spec.resolution)
            written.append(f"label_{name}.ccp4")
    if write_channels:
        for c, name in enumerate(grid.channel_names):
            write_ccp4(out / f"channel_{name}.ccp4", grid.features[c], spec.origin, spec.resolution)
            written.append(f"channel_{name}.ccp4")
    n_int = 0 if inter is None else len(inter)
    lab = "" if grid.labels is None else ", ".join(
        f"{n}={int(grid.labels[k].sum())}" for k, n in enumerate(grid.label_names))
    click.echo(f"{cx.source}: ligand {cx.ligand_id}, {spec!r}")
    extra = f", label voxels: {lab}" if lab else ""
    click.echo(f"  features {grid.features.shape}, {n_int} interactions{extra}")
    click.echo(f"  wrote {len(written)} files to {out}/")


__all__ = ["channels", "voxelize", "PocketvoxError"]
