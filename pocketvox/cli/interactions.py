"""``pocketvox interactions``: profile one or more complexes, PLIP-style."""

from __future__ import annotations

import json
import sys

import click


def _table(path: str, ligand_id: str, res) -> str:
    lines = [f"# {path}  ligand {ligand_id}  ({res!r})"]
    if len(res) == 0:
        lines.append("  no interactions")
        return "\n".join(lines)
    lines.append(f"  {'type':12s} {'subtype':17s} {'residue':16s} {'dist/Å':>7s} {'angle':>7s}")
    for r in res.to_records():
        rr = r["residue"]
        resid = f"{rr['name']}{rr['number']}{rr['icode']}:{rr['chain']}"
        ang = f"{r['angle']:.1f}" if "angle" in r else ""
        lines.append(f"  {r['type']:12s} {r.get('subtype', ''):17s} {resid:16s} {r['distance']:7.2f} {ang:>7s}")
    return "\n".join(lines)


def _csv_rows(path: str, ligand_id: str, res, header: bool) -> str:
    import io

    df = res.to_dataframe()
    df.insert(0, "ligand", ligand_id)
    df.insert(0, "complex", path)
    df["ligand_atoms"] = [";".join(map(str, a)) for a in df["ligand_atoms"]]
    df["protein_atoms"] = [";".join(map(str, a)) for a in df["protein_atoms"]]
    buf = io.StringIO()
    df.to_csv(buf, index=False, header=header, float_format="%.3f")
    return buf.getvalue().rstrip("\n")


@click.command("interactions")
@click.argument("complexes", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--ligand", "ligand", metavar="RES:CHAIN:NUM", help="HETATM ligand in PLIP notation (e.g. STI:A:1); "
              "found automatically when omitted.")
@click.option("--ligand-file", type=click.Path(dir_okay=False), help="Ligand as SDF/MOL2 in the receptor's frame.")
@click.option("--smiles", help="SMILES template for the HETATM ligand's bond orders.")
@click.option("--model", type=int, help="Model number for multi-model files (default: first).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def interactions(complexes, ligand, ligand_file, smiles, model, fmt):
    """Profile non-covalent interactions (hydrogen bonds, hydrophobic contacts, pi-stacking, salt
    bridges, halogen bonds, cation-pi) between a ligand and its receptor, with PLIP's criteria.

    With --format json, one JSON object per line per complex. A bad input is reported on stderr in one
    line and the others are still profiled; the exit status is 1 if any failed.
    """
    from pocketvox.cli.common import is_debug, report_item_error
    from pocketvox.errors import PocketvoxError
    from pocketvox.interactions import profile
    from pocketvox.structure.io import SITE_RADIUS, load_complex

    if ligand and ligand_file:
        raise click.UsageError("give either --ligand or --ligand-file, not both")
    n_bad = 0
    first_csv = True
    progress = None
    if len(complexes) > 20 and sys.stderr.isatty():
        from tqdm import tqdm

        progress = tqdm(total=len(complexes), unit="complex", file=sys.stderr)
    for path in complexes:
        try:
            c = load_complex(path, ligand=ligand, ligand_file=ligand_file, smiles=smiles, model=model,
                             site_radius=SITE_RADIUS)
            res = profile(c)
        except PocketvoxError as e:
            if is_debug():
                raise
            report_item_error(path, e)
            n_bad += 1
            continue
        finally:
            if progress is not None:
                progress.update(1)
        if fmt == "json":
            click.echo(json.dumps({"complex": str(path), "ligand": c.ligand_id, "ligand_smiles": c.ligand_smiles,
                                   "notes": list(c.notes), "interactions": res.to_records()}))
        elif fmt == "csv":
            text = _csv_rows(str(path), c.ligand_id, res, first_csv)
            if text:
                click.echo(text)
            first_csv = False
        else:
            click.echo(_table(str(path), c.ligand_id, res))
    if progress is not None:
        progress.close()
    if n_bad:
        sys.exit(1)
