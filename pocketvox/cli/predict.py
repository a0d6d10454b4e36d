"""``pocketvox predict``: hotspots, maps and viewer scripts for one structure."""

from __future__ import annotations

import json

import click

from pocketvox.cli.common import complex_inputs


@click.command("predict")
@click.argument("structure", type=click.Path(dir_okay=False))
@complex_inputs
@click.option("--mode", type=click.Choice(["pocket", "complex"]), default="pocket", show_default=True,
              help="pocket: protein channels only (hotspots); complex: protein and ligand channels.")
@click.option("--model", type=click.Path(dir_okay=False), help="Model checkpoint (default: the shipped model).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:N].")
@click.option("--scan", is_flag=True, help="Tile the whole protein and report hotspots everywhere.")
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--no-figure", is_flag=True, help="Skip the PNG figure (faster).")
@click.option("--explain", is_flag=True,
              help="Add each hotspot's top residues (HiResCAM attribution) to summary.json (float models).")
def predict(structure, ligand, ligand_file, center, smiles, mode, model, device, scan, outdir, fmt, no_figure,
            explain):
    """Predict where hydrogen bonds, hydrophobic contacts and pi-stacking form in a binding site.

    Writes summary.json, pred_<class>.ccp4 maps, view.pml (PyMOL), view.cxc (ChimeraX) and
    prediction.png to OUTDIR, and prints a summary.
    """
    from pocketvox.apps.predict import check_outdir, format_table
    from pocketvox.apps.predict import predict as run

    out = check_outdir(outdir)
    res = run(structure, ligand=ligand, ligand_file=ligand_file, center=center, mode=mode, model=model,
              device=device, smiles=smiles, scan=scan, explain=explain)
    res.write(out, figure=not no_figure)
    if fmt == "json":
        click.echo(json.dumps(res.summary()))
    else:
        click.echo(format_table(res))
        click.echo(f"\nfiles in {out}/: summary.json, pred_*.ccp4, view.pml (pymol {out}/view.pml), "
                   f"view.cxc, prediction.png")
