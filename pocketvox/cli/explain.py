"""``pocketvox explain``: Grad-CAM attribution maps and per-atom / per-residue tables."""

from __future__ import annotations

import json

import click

from pocketvox.cli.common import complex_inputs


@click.command("explain")
@click.argument("structure", type=click.Path(dir_okay=False))
@complex_inputs
@click.option("--class", "cls", default="hbond", show_default=True,
              help="Interaction class to explain (hbond, hydrophobic, pistacking, ... as the model predicts).")
@click.option("--mode", type=click.Choice(["complex", "pocket"]), default="complex", show_default=True)
@click.option("--hotspot", type=int, help="Explain the N-th predicted hotspot of the class (default: whole box).")
@click.option("--method", type=click.Choice(["gradcam", "hirescam"]), default="hirescam", show_default=True,
              help="hirescam: element-wise gradient x activation (ranks interacting residues far above chance); "
                   "gradcam: classic channel-mean weights.")
@click.option("--model", type=click.Path(dir_okay=False), help="Float model checkpoint (default: the shipped model).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda[:N].")
@click.option("--top", type=int, default=10, show_default=True, help="Residues to print.")
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def explain(structure, ligand, ligand_file, center, smiles, cls, mode, hotspot, method, model, device, top, outdir,
            fmt):
    """Explain where the network sees an interaction class: a Grad-CAM attribution map.

    Writes attribution_<class>.ccp4 (aligned with the structure), atoms.csv (map at every atom
    centre), residues.csv (summed per residue, ranked) and explain.json to OUTDIR.
    """
    from pocketvox.apps.explain import explain as run
    from pocketvox.apps.predict import check_outdir

    out = check_outdir(outdir)
    res = run(structure, ligand=ligand, ligand_file=ligand_file, smiles=smiles, cls=cls, mode=mode,
              hotspot=hotspot, center=center, model=model, device=device, method=method)
    res.write(out)
    if fmt == "json":
        click.echo(json.dumps(res.summary()))
        return
    click.echo(f"{structure} — {cls}, {mode} mode, {res.region_name} ({int(res.region.sum())} voxels), {method}")
    click.echo(f"{'rank':>4} {'residue':<16} {'sum':>10} {'share':>6} {'max':>10}")
    for r in res.residues.head(top).itertuples():
        click.echo(f"{r.rank:>4} {r.residue:<16} {r.attribution_sum:10.4g} {r.attribution_share:6.3f} "
                   f"{r.attribution_max:10.4g}")
    click.echo(f"\nfiles in {out}/: {res.files['map']}, atoms.csv, residues.csv, explain.json")
