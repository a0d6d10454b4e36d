"""Grids per second: pocketvox (numba CPU kernel) vs libmolgrid 0.5.5 on CPU, same inputs, one thread each.

Both makers receive the same atoms (every heavy atom of the protein and the ligand of each complex),
the same radii, the same 16-channel typing (libmolgrid's vector typing, one weight per channel) and
the same box (centre, number of points, resolution), and both use libmolgrid's density (Gaussian
with a quadratic tail to 1.5 r). Typing and file reading are excluded on both sides: each timed call
turns coordinates into a (16, n, n, n) float32 grid. The script also checks the two makers' grids
agree (max abs difference).

    .venv/bin/python benchmarks/grid_speed.py [--n 20] [--reps 10] [--molgrid .anchors/molgrid/bin/python]

libmolgrid: ``/work/shared/anchors/install_molgrid.sh .anchors/molgrid`` (its own venv, numpy<2).
"""

from __future__ import annotations

import os

# one thread for both (must be set before numba / OpenMP initialise)
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POCKETVOX_SHARED", ROOT.parent / "shared"))

MOLGRID_SCRIPT = r"""
import json, sys, time
import numpy as np, molgrid
d = np.load(sys.argv[1])
cfg = json.loads(sys.argv[2])
out_times, grids = [], {}
for ci in range(cfg["n"]):
    x = d[f"coords{ci}"].astype(np.float32); r = d[f"radii{ci}"].astype(np.float32)
    t = d[f"types{ci}"].astype(np.float32); c = d[f"center{ci}"]
    res, npts = cfg["res"], cfg["npts"]
    gm = molgrid.GridMaker(resolution=res, dimension=(npts - 1) * res)
    cs = molgrid.CoordinateSet(x, t, r)
    out = np.zeros(gm.grid_dimensions(t.shape[1]), np.float32)
    ctr = molgrid.float3(*[float(v) for v in c])
    gm.forward(ctr, cs, out)  # warm-up
    ts = []
    for _ in range(cfg["reps"]):
        t0 = time.perf_counter()
        gm.forward(ctr, cs, out)
        ts.append(time.perf_counter() - t0)
    out_times.append(ts)
    if ci < cfg["keep"]:
        grids[f"g{ci}"] = out.copy()
np.savez(sys.argv[3], times=np.array(out_times), **grids)
"""


def load_inputs(n: int):
    from pocketvox.grid.channels import type_atoms
    from pocketvox.grid.voxelize import default_spec
    from pocketvox.structure import load_complex

    pb = SHARED / "data" / "posebusters"
    ids = [r["id"] for r in csv.DictReader(open(pb / "index.csv"))]
    rng = np.random.default_rng(0)
    picked = []
    for i in rng.permutation(len(ids)):
        if len(picked) == n:
            break
        d = pb / ids[i]
        try:
            cx = load_complex(d / f"{ids[i]}_protein.pdb", ligand_file=d / f"{ids[i]}_ligand.sdf")
        except Exception as e:  # noqa: BLE001 - benchmark skips unreadable inputs and says so
            print(f"skip {ids[i]}: {e}", file=sys.stderr)
            continue
        picked.append((ids[i], cx, type_atoms(cx.protein, cx.ligand), default_spec(cx)))
    return picked


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20, help="complexes")
    ap.add_argument("--reps", type=int, default=5, help="timed grids per complex and round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds pocketvox / libmolgrid")
    ap.add_argument("--resolutions", default="0.5,1.0")
    ap.add_argument("--molgrid", default=str(ROOT / ".anchors" / "molgrid" / "bin" / "python"))
    ap.add_argument("--json", help="write results here")
    a = ap.parse_args()

    import numba

    from pocketvox.grid.kernels import grid_density
    from pocketvox.grid.spec import GridSpec

    t0 = time.perf_counter()
    items = load_inputs(a.n)
    print(f"loaded {len(items)} complexes in {time.perf_counter() - t0:.1f} s; numba threads "
          f"{numba.get_num_threads()}; atoms per complex: median "
          f"{int(np.median([len(t) for _, _, t, _ in items]))}")
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.processor() or platform.machine()}, "
               f"{os.cpu_count()} cores", "complexes": [i for i, *_ in items], "runs": []}
    for res in [float(r) for r in a.resolutions.split(",")]:
        specs = [GridSpec(s.center, 24.0, res) for *_, s in items]
        npts = specs[0].n
        # Rounds alternate between the two makers so that load from other users of a shared machine
        # hits both alike; per complex the median over all timed calls of all rounds is kept.
        grid_density(items[0][2].coords, items[0][2].radii, items[0][2].types, specs[0])  # JIT / cache load
        ours_calls = [[] for _ in items]
        mg_calls = [[] for _ in items]
        ours_g, mg_ok, diff = [], Path(a.molgrid).exists(), None
        if not mg_ok:
            print(f"libmolgrid not found at {a.molgrid}; run /work/shared/anchors/install_molgrid.sh", file=sys.stderr)
        with tempfile.TemporaryDirectory() as td:
            arrs = {}
            for ci, ((_, _, ta, _), spec) in enumerate(zip(items, specs)):
                arrs |= {f"coords{ci}": ta.coords, f"radii{ci}": ta.radii, f"types{ci}": ta.types,
                         f"center{ci}": spec.center_array}
            np.savez(Path(td) / "in.npz", **arrs)
            for rnd in range(a.rounds):
                for ci, ((_, _, ta, _), spec) in enumerate(zip(items, specs)):
                    out = np.zeros((ta.types.shape[1],) + spec.shape, np.float32)
                    grid_density(ta.coords, ta.radii, ta.types, spec, out=out)
                    for _ in range(a.reps):
                        t1 = time.perf_counter()
                        grid_density(ta.coords, ta.radii, ta.types, spec, out=out)
                        ours_calls[ci].append(time.perf_counter() - t1)
                    if rnd == 0:
                        ours_g.append(out.copy())
                if not mg_ok:
                    continue
                cfg = json.dumps({"n": len(items), "reps": a.reps, "res": res, "npts": npts,
                                  "keep": len(items) if rnd == 0 else 0})
                env = dict(os.environ, OMP_NUM_THREADS="1")
                r = subprocess.run([a.molgrid, "-c", MOLGRID_SCRIPT, str(Path(td) / "in.npz"), cfg,
                                    str(Path(td) / "out.npz")], capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    print(r.stderr[-2000:], file=sys.stderr)
                    mg_ok = False
                    continue
                with np.load(Path(td) / "out.npz") as z:
                    for ci, calls in enumerate(z["times"]):
                        mg_calls[ci].extend(calls.tolist())
                    if rnd == 0:
                        diff = max(float(np.abs(z[f"g{ci}"] - ours_g[ci]).max()) for ci in range(len(items)))
        ours_t = [float(np.median(c)) for c in ours_calls]
        mg_t = [float(np.median(c)) for c in mg_calls] if mg_ok else None
        ours_gps = 1.0 / np.mean(ours_t)
        run = {"resolution": res, "points": npts, "channels": int(items[0][2].types.shape[1]),
               "calls_per_complex": a.reps * a.rounds,
               "pocketvox_grids_per_s": round(float(ours_gps), 1),
               "pocketvox_ms_per_grid": round(1000 * float(np.mean(ours_t)), 3)}
        line = f"res {res} Å ({npts}³ x 16 ch): pocketvox {ours_gps:.1f} grids/s ({1000 * np.mean(ours_t):.2f} ms)"
        if mg_t is not None:
            mg_gps = 1.0 / np.mean(mg_t)
            run |= {"libmolgrid_grids_per_s": round(float(mg_gps), 1),
                    "libmolgrid_ms_per_grid": round(1000 * float(np.mean(mg_t)), 3),
                    "ratio": round(float(ours_gps / mg_gps), 2),
                    "ratio_per_complex_median": round(float(np.median(np.array(mg_t) / np.array(ours_t))), 2),
                    "max_abs_diff_vs_libmolgrid": diff}
            line += (f" | libmolgrid {mg_gps:.1f} grids/s ({1000 * np.mean(mg_t):.2f} ms) | ratio "
                     f"{ours_gps / mg_gps:.2f}x | max |diff| {diff:.2e}")
        print(line)
        results["runs"].append(run)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
