"""End-to-end ``pocketvox predict`` time on CPU: process start to files written.

Runs the installed command as a fresh process per complex (so imports, model loading, reading,
profiling, gridding, the network, hotspots and every output file are counted) on the first 20
PoseBusters test-split complexes, protein PDB + ligand SDF, pocket mode, default model, and prints
the median and quartiles. PharmacoNet, the nearest peer, reports about a minute per protein on CPU
(not rerun here: it is not installable offline).

    python benchmarks/predict_speed.py [--n 20] [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POCKETVOX_SHARED", ROOT.parent / "shared"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", default="pocket")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    pb = SHARED / "data" / "posebusters"
    split = json.loads((pb / "split.json").read_text())
    ids = sorted(split["test"])[: args.n]
    exe = Path(sys.executable).with_name("pocketvox")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    times, failed = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        # one untimed run first: numba's on-disk kernel cache and the OS file cache are then warm,
        # as they are for any user after the first call
        first = ids[0]
        subprocess.run([str(exe), "predict", str(pb / first / f"{first}_protein.pdb"), "--ligand-file",
                        str(pb / first / f"{first}_ligand.sdf"), "-o", f"{tmp}/warm"], env=env,
                       capture_output=True, check=False)
        for cid in ids:
            d = pb / cid
            cmd = [str(exe), "predict", str(d / f"{cid}_protein.pdb"), "--ligand-file", str(d / f"{cid}_ligand.sdf"),
                   "--mode", args.mode, "-o", f"{tmp}/{cid}"]
            t0 = time.perf_counter()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if r.returncode == 0 and (Path(tmp) / cid / "summary.json").is_file():
                times[cid] = dt
            else:
                failed[cid] = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
            print(f"{cid}: {dt:.2f} s" + ("" if cid in times else f"  FAILED {failed[cid]}"), flush=True)
    vals = sorted(times.values())
    q = statistics.quantiles(vals, n=4) if len(vals) >= 2 else [float("nan")] * 3
    res = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": " ".join(["python"] + sys.argv),
        "n": len(vals),
        "median_s": round(statistics.median(vals), 3) if vals else None,
        "q1_s": round(q[0], 3),
        "q3_s": round(q[2], 3),
        "failed": failed,
        "per_complex_s": {k: round(v, 3) for k, v in times.items()},
    }
    print(json.dumps({k: v for k, v in res.items() if k != "per_complex_s"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
