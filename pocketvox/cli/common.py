"""Helpers shared by CLI commands: debug flag lookup and batch error reporting.

Atomic writes live in :mod:`pocketvox.atomic` (re-exported here for command modules)."""

from __future__ import annotations

import click

from pocketvox.atomic import atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_text", "complex_inputs", "is_debug", "report_item_error"]


def complex_inputs(f):
    """The options that say where the ligand (or the box) is: ``--ligand``, ``--ligand-file``,
    ``--center``, ``--smiles`` (shared by ``predict`` and ``explain``)."""
    for opt in reversed([
        click.option("--ligand", metavar="RES:CHAIN:NUM", help="HETATM ligand (PLIP notation); found if omitted."),
        click.option("--ligand-file", type=click.Path(dir_okay=False),
                     help="Ligand as SDF/MOL2 in the receptor's frame."),
        click.option("--center", metavar="X,Y,Z",
                     help="Box centre in Å (receptor alone, no ligand needed; pocket mode)."),
        click.option("--smiles", help="Bond-order template for a HETATM ligand."),
    ]):
        f = opt(f)
    return f


def is_debug() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.obj and ctx.obj.get("debug"):
            return True
        ctx = ctx.parent
    return False


def report_item_error(path, err: Exception) -> None:
    """One line for a bad item in batch work; the batch goes on."""
    click.echo(f"pocketvox: error: {path}: {err}" if str(path) not in str(err) else f"pocketvox: error: {err}",
               err=True)
