"""``pocketvox evaluate DATA [--model M] [--mode pocket|complex] [--split test] [--format json]``."""

from __future__ import annotations

import json

import click


@click.command("evaluate")
@click.argument("data", type=click.Path(exists=True))
@click.option("--model", default=None, help="Checkpoint or run directory (default: the shipped model).")
@click.option("--mode", type=click.Choice(["complex", "pocket"]), default="complex", show_default=True)
@click.option("--split", default="test", show_default=True,
              help="Split to score (from the cache or the folder's split.json); 'all' for every complex.")
@click.option("--device", default="cpu", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Also write the JSON here.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def evaluate(data, model, mode, split, device, fmt, output, quiet):
    """Score a model and its learning-free baseline per interaction class on DATA (folder or cache).

    Medical / climate models: DATA is their training config (the held-out hemisphere, scan or files
    are scored against baselines) or, for climate, a NetCDF/GRIB2 file with ``pwat``.
    """
    from pocketvox.apps.evaluate import evaluate as run
    from pocketvox.cli.common import atomic_write_text, report_item_error
    from pocketvox.cli.domains import domain_of

    domain = domain_of(data, model)
    if domain is not None:  # medical / climate: DATA is a training config (or a climate file)
        from pocketvox.cli.domains import evaluate_domain, format_domain_table

        res = evaluate_domain(domain, data, model, device)
        text = json.dumps(res, indent=2)
        if output:
            atomic_write_text(output, text + "\n")
        click.echo(text if fmt == "json" else format_domain_table(res))
        return
    res = run(data, model=model, mode=mode, split=split, device=device, progress=not quiet,
              on_error=lambda s, e: report_item_error(s.path, e))
    text = json.dumps(res, indent=2)
    if output:
        atomic_write_text(output, text + "\n")
    if fmt == "json":
        click.echo(text)
        return
    classes = [c for c in res["model"] if c != "mean_jaccard"]
    click.echo(f"{mode} mode, {res['n_complexes']} complexes ({len(res['failed'])} failed), split {split}")
    click.echo(f"{'class':<12} {'':>8} {'jaccard':>8} {'precision':>9} {'recall':>7} {'AP':>6}")
    for c in classes:
        for who in ("model", "baseline"):
            r = res[who][c]
            ap = "-" if r["ap"] is None else f"{r['ap']:.3f}"
            click.echo(f"{c:<12} {who:>8} {r['jaccard']:8.3f} {r['precision']:9.3f} {r['recall']:7.3f} {ap:>6}")
    click.echo(f"{'mean':<12} {'model':>8} {res['model']['mean_jaccard']:8.3f}")
    click.echo(f"{'mean':<12} {'baseline':>8} {res['baseline']['mean_jaccard']:8.3f}")
