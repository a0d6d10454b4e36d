"""``pocketvox screen``: rank docked poses of ligand libraries against a pocket's predicted maps."""

from __future__ import annotations

import click


def _center(ctx, param, value):
    if value is None:
        return None
    try:
        xyz = [float(v) for v in value.split(",")]
    except ValueError:
        xyz = []
    if len(xyz) != 3:
        raise click.BadParameter(f"expected x,y,z in Å, got {value!r}")
    return tuple(xyz)


@click.command("screen")
@click.argument("receptor", type=click.Path(dir_okay=False))
@click.argument("library", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--pocket", "pocket", type=click.Path(dir_okay=False),
              help="Ligand file (SDF/MOL2/PDB) in the receptor's frame that marks the pocket.")
@click.option("--ligand", "ligand", metavar="RES:CHAIN:NUM",
              help="Ligand residue in RECEPTOR that marks the pocket.")
@click.option("--center", "center", metavar="x,y,z", callback=_center, help="Pocket centre in Å.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="Results: CSV, or Parquet when the name ends in .parquet. Errors go to OUTPUT.errors.csv.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run with the same inputs.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Local worker processes.")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Records per chunk (the unit of work, checkpoint and resume).")
@click.option("--device", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda"]),
              help="Device for the pocket prediction and map sampling.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Run the chunks as Ray tasks: on a new local Ray instance, or on the cluster at ADDRESS.")
@click.option("--keep-tags", is_flag=True, help="Copy the best pose's SD tags into the results.")
@click.option("--rescore", type=click.Choice(["cnn"]), default=None,
              help="Score each pose with the complex-mode network run on the receptor plus that pose "
                   "(one network pass per pose, batched; --device cuda to use a GPU).")
@click.option("--size-exponent", type=click.FloatRange(min=0.0, max=1.0), default=0.5, show_default=True,
              help="Divide each score by (heavy atoms)^EXPONENT: 0 additive, 0.5 size-normalised, "
                   "1 per heavy atom (docs/screening.md).")
@click.option("--model", default=None, help="Model file for the pocket prediction (default: bundled model).")
@click.option("--maps", "maps_file", type=click.Path(dir_okay=False),
              help="Precomputed pocket maps (.npz) instead of running the network, or 'geometric' for "
                   "model-free maps built from the receptor.")
@click.option("--box", type=click.FloatRange(min=4.0), default=None,
              help="Edge of the map cube in Å (default: the model's box, 24 Å); larger boxes keep poses "
                   "far from the pocket centre scorable.")
@click.option("--save-maps", type=click.Path(dir_okay=False), help="Also write the pocket maps used (.npz).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def screen(receptor, library, pocket, ligand, center, output, resume, jobs, batch_size, device, ray_address,
           keep_tags, rescore, size_exponent, model, maps_file, box, save_maps, quiet):
    """Score the poses in LIBRARY files (SDF, SDF.gz, MOL2) against RECEPTOR's pocket.

    Each pose's donors, acceptors, hydrophobic atoms, rings, charges and halogens are looked up in the
    interaction maps predicted once for the pocket; clashes with the receptor are penalised. One row
    per molecule (poses grouped by title), its best pose, sorted best first.
    """
    from pocketvox.apps.screen import pocket_maps, run_screen
    from pocketvox.apps.screen_score import ScoreParams

    if sum(x is not None for x in (pocket, ligand, center)) != 1 and maps_file is None:
        raise click.UsageError("place the pocket with exactly one of --pocket, --ligand or --center")

    def factory():
        m = pocket_maps(receptor, pocket=pocket, ligand=ligand, center=center, device=device, model=model,
                        maps_file=maps_file, box=box)
        if save_maps:
            m.save(save_maps)
        return m

    rescorer = None
    if rescore == "cnn":
        from pocketvox.apps.screen_cnn import cnn_rescorer

        rescorer = cnn_rescorer(receptor, pocket=pocket, ligand=ligand, center=center, model=model,
                                device=device)
    params = ScoreParams(size_exponent=size_exponent, rescore=rescore or "maps")
    s = run_screen(None, list(library), output, batch_size=batch_size, jobs=jobs, device=device,
                   ray_address=ray_address, keep_tags=keep_tags, resume=resume, progress=not quiet,
                   maps_factory=factory, params=params, rescorer=rescorer)
    click.echo(f"{s.molecules} molecules ranked from {s.records} new poses in {s.seconds:.1f} s "
               f"({s.poses_per_s:.0f} poses/s); {s.n_errors} errors -> {s.errors}; results -> {s.results}",
               err=True)
