"""Where the profiler's time goes: median CPU time per stage over the 39 PLIP test entries.

The same work as ``benchmarks/plip_speed.py`` times as a whole (``load_complex(path, ligand=...,
site_radius=SITE_RADIUS)`` then ``profile``), split into its stages: PDB scan, cleaning + hetero-group
bonds, ligand selection, HETATM-ligand bond orders (RDKit molecule), ligand typing, binding-site
receptor bonds + typing, detection. ``--repeats`` passes, the first discarded (numba's cached kernels
load on first use).

    .venv/bin/python benchmarks/profiler_stages.py [--shared ../shared] [--repeats 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("scan", "clean+split", "select", "ligand bond orders", "ligand typing", "receptor", "detect", "total")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()

    from pocketvox.interactions.profile import profile_tables
    from pocketvox.structure import io
    from pocketvox.structure.ligand import ligand_from_residue, ligand_table

    plip = args.shared / "data" / "plip"
    ligands = {}
    for a in json.loads((plip / "expectations.json").read_text())["assertions"]:
        ligands.setdefault(a["pdb"], a["ligand"])
    files = sorted((plip / "pdb").glob("*.pdb"))
    cpu = time.process_time
    times = {k: [] for k in STAGES}
    for rep in range(args.repeats):
        for f in files:
            t0 = cpu()
            io.parse_structure(f, io.read_bytes(f), model=1)
            t1 = cpu()
            ps = io.read_structure(f)  # scan again + clean: the clean share is the difference
            t2 = cpu()
            cand, _ = io.select_ligand(ps, ligands[f.name])
            t3 = cpu()
            mol, _ = ligand_from_residue(ps, cand)
            t4 = cpu()
            lig = ligand_table(mol, names=ps.sites.name[cand.rows].tolist())
            t5 = cpu()
            prot = io.receptor_table(ps, lig.coords, io.SITE_RADIUS)
            t6 = cpu()
            profile_tables(prot, lig)
            t7 = cpu()
            if rep:
                for k, v in zip(STAGES, (t1 - t0, (t2 - t1) - (t1 - t0), t3 - t2, t4 - t3, t5 - t4, t6 - t5,
                                         t7 - t6, (t1 - t0) + (t7 - t2))):
                    times[k].append(v * 1e3)
    print(f"{len(files)} entries, {args.repeats - 1} timed passes; median CPU ms per complex:")
    for k in STAGES:
        print(f"  {k:20s} {statistics.median(times[k]):6.2f}")


if __name__ == "__main__":
    main()
