"""``pocketvox export``: prune and/or quantise a model for fast CPU inference."""

from __future__ import annotations

import json

import click


@click.command("export")
@click.option("--model", required=True, type=click.Path(dir_okay=False),
              help="Float model checkpoint to compress ('default': the shipped model).")
@click.option("--prune", type=float, help="Fraction of channels to remove from every layer group (0-1), by L1 norm.")
@click.option("--quantize", type=click.Choice(["int8"]), help="Static post-training int8 quantisation (CPU).")
@click.option("--finetune-steps", type=int, default=0, show_default=True,
              help="Fine-tune steps after pruning (0: none). Needs training grids.")
@click.option("--data", type=click.Path(file_okay=False),
              help="Folder of training complexes (<ID>/<ID>_protein.pdb + _ligand.sdf; split.json 'train' "
                   "list used when present) for calibration and fine-tuning (default: the model's adapter).")
@click.option("--calib-grids", type=int, default=16, show_default=True, help="Training grids for int8 calibration.")
@click.option("--finetune-grids", type=int, default=64, show_default=True, help="Training grids for fine-tuning.")
@click.option("--lr", type=float, default=5e-4, show_default=True, help="Fine-tune learning rate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Output checkpoint.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def export(model, prune, quantize, finetune_steps, data, calib_grids, finetune_grids, lr, seed, out, fmt):
    """Write a pruned and/or int8 copy of MODEL that loads wherever the model loads."""
    from pocketvox.apps.export import export_model

    rep = export_model(model, out, prune=prune, quantize=quantize, finetune_steps=finetune_steps, data=data,
                       calib_grids=calib_grids, finetune_grids=finetune_grids, lr=lr, seed=seed,
                       progress=fmt == "table")
    if fmt == "json":
        click.echo(json.dumps({k: v for k, v in rep.items() if k != "widths"}))
        return
    click.echo(f"wrote {rep['file']}: {rep['parameters']:,} parameters (from {rep['source_parameters']:,}), "
               f"{rep['bytes'] / 1e6:.2f} MB (from {rep['source_bytes'] / 1e6:.2f} MB)")
    if rep.get("prune"):
        click.echo(f"pruned {rep['prune']['fraction']:.0%} of channels per group"
                   + (f"; fine-tuned {rep['fine_tune']['steps']} steps (loss {rep['fine_tune']['loss_first']} -> "
                      f"{rep['fine_tune']['loss_last']})" if rep.get("fine_tune") else ""))
    if rep.get("quantize"):
        click.echo(f"int8 ({rep['engine']}), calibrated on {rep['calibration_grids']} training grids")
