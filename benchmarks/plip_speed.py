"""Speed of pocketvox's profiler against PLIP 3.0.1, same files, same run, parsing included.

Installs PLIP with ``shared/anchors/install_plip.sh .anchors/plip`` (a virtual environment with Open
Babel), then for each of the 39 entries in ``shared/data/plip/pdb`` and the ligand its assertions name
(``expectations.json``):

* PLIP, in a subprocess running that environment's Python: ``PDBComplex().load_pdb(path)`` then
  characterisation of that one ligand (PLIP's documented library use), timed in-process;
* pocketvox, in this process: ``load_complex(path, ligand=..., site_radius=SITE_RADIUS)`` then
  ``profile(...)`` — what ``pocketvox interactions`` does (whole file parsed, binding site typed).

Each tool's time per complex is the median of ``--repeats`` runs (wall clock; CPU time also
recorded); the report gives both medians over complexes and their ratio.

    .venv/bin/python benchmarks/plip_speed.py [--repeats 3] [--plip-repeats 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLIP_WORKER = r"""
import json, sys, time, tempfile, os, statistics
from plip.basic import config, logger
from plip.structure.preparation import PDBComplex
config.NOFIXFILE = True
jobs = json.loads(sys.argv[1]); reps = int(sys.argv[2]); out = {}
tmp = tempfile.mkdtemp()
for path, lig_id in jobs:
    walls, cpus = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        cpx = PDBComplex(); cpx.output_path = tmp
        cpx.load_pdb(path)
        for lig in cpx.ligands:
            if ":".join([lig.hetid, lig.chain, str(lig.position)]) == lig_id:
                cpx.characterize_complex(lig)
        walls.append(time.perf_counter() - t0); cpus.append(time.process_time() - c0)
    out[path] = [statistics.median(walls), statistics.median(cpus)]
    print(json.dumps({"done": os.path.basename(path), "s": out[path][0]}), file=sys.stderr, flush=True)
print(json.dumps(out))
"""


def jobs(shared: Path) -> list[tuple[str, str]]:
    data = json.loads((shared / "data" / "plip" / "expectations.json").read_text())
    seen = {}
    for a in data["assertions"]:
        seen.setdefault(a["pdb"], a["ligand"])
    return [(str(shared / "data" / "plip" / "pdb" / p), lig) for p, lig in sorted(seen.items())]


def time_pocketvox(work, repeats):
    from pocketvox.interactions import profile
    from pocketvox.structure.io import SITE_RADIUS, load_complex

    load_complex(work[0][0], ligand=work[0][1])  # warm-up: imports (RDKit, SciPy) are not per complex
    out = {}
    for path, lig in work:
        walls, cpus = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            profile(load_complex(path, ligand=lig, site_radius=SITE_RADIUS))
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        out[path] = [statistics.median(walls), statistics.median(cpus)]
    return out


def time_plip(work, repeats, venv: Path):
    py = venv / "bin" / "python"
    r = subprocess.run([str(py), "-c", PLIP_WORKER, json.dumps(work), str(repeats)], capture_output=True, text=True,
                       cwd=tempfile.gettempdir())
    if r.returncode != 0:
        raise SystemExit(f"PLIP worker failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--repeats", type=int, default=3, help="pocketvox runs per complex (median)")
    ap.add_argument("--plip-repeats", type=int, default=1, help="PLIP runs per complex (median)")
    ap.add_argument("--venv", type=Path, default=ROOT / ".anchors" / "plip")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    subprocess.run(["bash", str(a.shared / "anchors" / "install_plip.sh"), str(a.venv)], check=True)
    work = jobs(a.shared)
    t0 = time.perf_counter()
    ours = time_pocketvox(work, a.repeats)
    t1 = time.perf_counter()
    theirs = time_plip(work, a.plip_repeats, a.venv)
    t2 = time.perf_counter()
    rows = []
    for path, lig in work:
        o, p = ours[path], theirs[path]
        rows.append((Path(path).name, lig, o[0], o[1], p[0], p[1]))
    med = {k: statistics.median(r[i] for r in rows) for k, i in
           (("pocketvox_wall", 2), ("pocketvox_cpu", 3), ("plip_wall", 4), ("plip_cpu", 5))}
    per_ratio = statistics.median(r[4] / r[2] for r in rows)
    print(f"{'file':22s} {'ligand':14s} {'pocketvox ms':>12s} {'PLIP ms':>10s} {'ratio':>7s}")
    for name, lig, ow, _, pw, _ in rows:
        print(f"{name:22s} {lig:14s} {ow * 1e3:12.1f} {pw * 1e3:10.1f} {pw / ow:7.1f}")
    print(f"\n{len(rows)} complexes; pocketvox {t1 - t0:.1f} s total ({a.repeats} runs each), "
          f"PLIP {t2 - t1:.1f} s total ({a.plip_repeats} run(s) each)")
    print(f"median per complex, wall: pocketvox {med['pocketvox_wall'] * 1e3:.1f} ms, PLIP "
          f"{med['plip_wall'] * 1e3:.0f} ms -> ratio of medians {med['plip_wall'] / med['pocketvox_wall']:.0f}x; "
          f"median of per-complex ratios {per_ratio:.0f}x")
    print(f"median per complex, CPU:  pocketvox {med['pocketvox_cpu'] * 1e3:.1f} ms, PLIP "
          f"{med['plip_cpu'] * 1e3:.0f} ms -> {med['plip_cpu'] / med['pocketvox_cpu']:.0f}x")
    if a.json:
        a.json.write_text(json.dumps({"rows": rows, "medians": med, "median_ratio": per_ratio}, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
