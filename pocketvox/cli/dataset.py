"""``pocketvox dataset build SRC_DIR -o CACHE``: profile complexes once into an HDF5 training cache."""

from __future__ import annotations

import json

import click


@click.group("dataset")
def dataset():
    """Build and inspect training caches."""


@dataset.command("build")
@click.argument("src_dir", type=click.Path(file_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Cache file (.h5).")
@click.option("--size", default=24.0, show_default=True, help="Grid edge, Å (sets the stored pocket centre).")
@click.option("--resolution", default=1.0, show_default=True, help="Voxel edge, Å.")
@click.option("--limit", default=0, help="Only the first N complexes (0: all).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def build(src_dir, output, size, resolution, limit, quiet):
    """Read, type and profile every complex in SRC_DIR (PoseBusters layout or PDB/mmCIF entries)."""
    from pocketvox.apps.dataset import build_cache
    from pocketvox.cli.common import report_item_error

    res = build_cache(src_dir, output, size=size, resolution=resolution, limit=limit, progress=not quiet,
                      on_error=lambda s, e: report_item_error(s.path, e))
    click.echo(json.dumps(res))


@dataset.command("info")
@click.argument("cache", type=click.Path(dir_okay=False))
def info(cache):
    """Summarise a cache: complexes, split sizes, failures, interaction counts per class."""
    import numpy as np

    from pocketvox.apps.dataset import read_cache

    items, meta = read_cache(cache)
    counts = np.sum([c.label_classes.sum(0) for c in items.values()], 0) if items else []
    click.echo(json.dumps({
        "complexes": len(items),
        "split": {k: len(v) for k, v in meta["split"].items() if k != "method"},
        "split_method": meta["split"].get("method", ""),
        "failed": meta["failed"],
        "interactions": {c: int(n) for c, n in zip(meta["label_classes"], counts)},
        "grid": meta["grid"],
    }, indent=2))
