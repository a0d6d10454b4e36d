"""Screening benchmarks: enrichment on DEKOIS 2.0 AChE and end-to-end throughput.

Usage (from the repository root)::

    .venv/bin/python benchmarks/screening.py                 # enrichment + throughput
    .venv/bin/python benchmarks/screening.py --skip-vina     # without the Vina baseline
    .venv/bin/python benchmarks/screening.py --only throughput --repeat 41 --jobs 1 2

Enrichment: 40 actives and 1200 decoys docked into PDB 1EVE (shared/data/screening/dekois_ache);
the pocket is donepezil (E20:A:2001 of shared/data/plip/pdb/1eve.pdb, same frame). Methods, all on
the same poses in this one run: pocketvox's score with the predictor's maps (when a model is
available) and with model-free geometric maps, ligand heavy-atom count, and AutoDock Vina
score-only (vina + meeko, set up as the dataset README describes). Molecules a method cannot score
(e.g. poses outside the map box) rank last.

Throughput: the DEKOIS file repeated to >= 50,000 poses (gzip), read by RDKit alone
(``ForwardSDMolSupplier(removeHs=False)``, default sanitization) and screened end to end by
pocketvox (decompression, splitting, typing, scoring, checkpoint shards, merge, CSV) in the same
run, interleaved, so the ratio is robust to the load of a shared machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POCKETVOX_SHARED", ROOT.parent / "shared"))
DEKOIS = SHARED / "data" / "screening" / "dekois_ache"
PDB_1EVE = SHARED / "data" / "plip" / "pdb" / "1eve.pdb"
LIGAND = "E20:A:2001"


# ------------------------------------------------------------------------------------ metrics
def auroc(score: np.ndarray, active: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(active, score))


def ef(score: np.ndarray, active: np.ndarray, frac: float = 0.01) -> tuple[float, float]:
    """Enrichment factor in the top ``frac`` (README definition: ties at the cut count their
    expected number of actives). Returns (EF, expected actives in the top n)."""
    N, A = len(score), int(active.sum())
    n = int(np.floor(frac * N))
    order = np.sort(score)[::-1]
    cut = order[n - 1]
    above = score > cut
    tied = score == cut
    a = active[above].sum() + (n - above.sum()) * active[tied].sum() / tied.sum()
    return float((a / n) / (A / N)), float(a)


# ------------------------------------------------------------------------------------ methods
def load_labels():
    import pandas as pd

    lab = pd.read_csv(DEKOIS / "labels.csv")
    return dict(zip(lab["name"], lab["active"].astype(int)))


def heavy_atoms(poses: Path) -> dict:
    from rdkit import Chem

    out = {}
    for m in Chem.ForwardSDMolSupplier(gzip.open(poses), removeHs=False):
        if m is not None:
            name = m.GetProp("_Name")
            out[name] = max(out.get(name, 0), m.GetNumHeavyAtoms())
    return out


def pocketvox_scores(maps, poses: Path, tmp: Path, tag: str, params=None, rescorer=None
                     ) -> tuple[dict, dict, float]:
    import pandas as pd

    from pocketvox.apps.screen import run_screen

    out = tmp / f"pv_{tag}.csv"
    t = time.perf_counter()
    run_screen(maps, [poses], out, progress=False, params=params, rescorer=rescorer)
    dt = time.perf_counter() - t
    df = pd.read_csv(out)
    err = pd.read_csv(tmp / f"pv_{tag}.csv.errors.csv")
    terms = {c: dict(zip(df["name"], df[c])) for c in df.columns if c.startswith("term_") or c == "clash"}
    return dict(zip(df["name"], df["score"])), {"errors": len(err), "terms": terms, "n_poses": df["n_poses"].max()}, dt


def exponent_label(a: float) -> str:
    return {0.0: "additive", 0.5: "/ N^1/2 (default)", 1.0: "/ N (per heavy atom)"}.get(
        round(a, 3), f"/ N^{a:.3g}")


def vina_scores(poses: Path, tmp: Path) -> tuple[dict, dict]:
    """AutoDock Vina score-only of each pose, as in the dataset README (meeko receptor with residues
    A:2,3 deleted, hydrogens completed on the ligands, one set of 0.375 Å maps enclosing all poses)."""
    import subprocess

    from meeko import MoleculePreparation, PDBQTWriterLegacy
    from rdkit import Chem
    from vina import Vina

    rec = tmp / "rec"
    exe = Path(sys.executable).with_name("mk_prepare_receptor.py")
    subprocess.run([str(exe), "--read_pdb", str(DEKOIS / "receptor.pdb"), "-d", "A:2,3", "-o", str(rec), "-p"],
                   check=True, capture_output=True)
    mols = [m for m in Chem.ForwardSDMolSupplier(gzip.open(poses), removeHs=False) if m is not None]
    xyz = np.concatenate([m.GetConformer().GetPositions() for m in mols])
    lo, hi = xyz.min(0) - 5.0, xyz.max(0) + 5.0
    v = Vina(sf_name="vina", verbosity=0, cpu=1)
    v.set_receptor(str(rec) + ".pdbqt")
    t = time.perf_counter()
    v.compute_vina_maps(center=((lo + hi) / 2).tolist(), box_size=(hi - lo).tolist(), spacing=0.375)
    t_maps = time.perf_counter() - t
    prep = MoleculePreparation(rigid_macrocycles=True)
    out, failed = {}, 0
    t = time.perf_counter()
    for m in mols:
        name = m.GetProp("_Name")
        try:
            mh = Chem.AddHs(m, addCoords=True)
            setup = prep.prepare(mh)[0]
            s, ok, _ = PDBQTWriterLegacy.write_string(setup)
            if not ok:
                raise ValueError("meeko could not write PDBQT")
            v.set_ligand_from_string(s)
            e = float(v.score()[0])
        except Exception:  # noqa: BLE001 - a failed molecule ranks last, counted below
            failed += 1
            continue
        out[name] = min(out.get(name, np.inf), e)
    return out, {"failed": failed, "maps_s": round(t_maps, 1), "score_s": round(time.perf_counter() - t, 1)}


def predictor_maps(box=None, model=None):
    """Maps from pocketvox's predictor (None when no model is available)."""
    try:
        from pocketvox.apps.screen import pocket_maps

        return pocket_maps(str(PDB_1EVE), ligand=LIGAND, box=box, model=model)
    except Exception as e:  # noqa: BLE001 - report and go on with the geometric maps
        print(f"# predictor maps unavailable: {type(e).__name__}: {e}", file=sys.stderr)
        return None


def enrichment(args, tmp: Path) -> dict:
    from pocketvox.apps.screen_maps import geometric_maps
    from pocketvox.structure.io import load_complex

    labels = load_labels()
    names = sorted(labels)
    active = np.array([labels[n] for n in names])
    poses = DEKOIS / "poses.sdf.gz"
    cx = load_complex(str(PDB_1EVE), ligand=LIGAND)
    lig = cx.ligand.coords[cx.ligand.heavy]
    center = 0.5 * (lig.min(0) + lig.max(0))
    results = {}

    def add(method, scores: dict, higher_better: bool, extra=None):
        s = np.array([scores.get(n, np.nan) for n in names], float)
        missing = int(np.isnan(s).sum())
        s = s if higher_better else -s
        s = np.where(np.isnan(s), -np.inf, s)  # unscored molecules rank last (tied)
        s = np.where(np.isinf(s), np.nanmin(s[np.isfinite(s)]) - 1.0, s)
        e, a = ef(s, active)
        results[method] = {"auroc": round(auroc(s, active), 3), "ef1": round(e, 1), "actives_top12": round(a, 2),
                           "unscored": missing, **(extra or {})}
        print(f"{method:40s} AUROC {results[method]['auroc']:.3f}  EF1% {e:5.1f}  ({a:.2f} actives in top 12, "
              f"{missing} unscored)", flush=True)

    from pocketvox.apps.screen_score import ScoreParams

    # every size normalisation (score / N^a) is a separate screen of the same poses, same maps
    for size in args.geo_sizes:
        maps = geometric_maps(cx.protein, center, size=size)
        for a in args.exponents:
            sc, info, dt = pocketvox_scores(maps, poses, tmp, f"geo{size:g}_{a:g}", ScoreParams(size_exponent=a))
            add(f"pocketvox, geometric maps {size:g} Å, {exponent_label(a)}", sc, True,
                {"errors": info["errors"], "seconds": round(dt, 2), "size_exponent": a})
        if size == args.geo_sizes[0]:
            for term, vals in info["terms"].items():
                add(f"  term {term} alone ({size:g} Å)", vals, term != "clash")
    for size in args.geo_sizes:
        pm = predictor_maps(size, args.model)
        if pm is None:
            break
        mi = pm.info.get("model", {})
        label = f"{Path(mi.get('path', 'model')).name}, epoch {mi.get('epoch')}" if isinstance(mi, dict) else str(mi)
        for a in args.exponents:
            sc, info, dt = pocketvox_scores(pm, poses, tmp, f"model{size:g}_{a:g}", ScoreParams(size_exponent=a))
            add(f"pocketvox, predicted maps {size:g} Å, {exponent_label(a)} ({label})", sc, True,
                {"errors": info["errors"], "seconds": round(dt, 2), "model": mi, "size_exponent": a})
        if size == args.geo_sizes[0]:
            for term, vals in info["terms"].items():
                add(f"  term {term} alone (predicted, {size:g} Å)", vals, term != "clash")
    if args.cnn:
        # --rescore cnn: one network pass per pose; terms and clash do not depend on the exponent,
        # so one run gives every normalisation exactly (DEKOIS has one pose per molecule)
        from pocketvox.apps.screen_cnn import cnn_rescorer

        resc = cnn_rescorer(str(PDB_1EVE), ligand=LIGAND, model=args.model, batch_size=8)
        maps = geometric_maps(cx.protein, center, size=32.0)  # only for the box test and clash
        sc, info, dt = pocketvox_scores(maps, poses, tmp, "cnn", ScoreParams(size_exponent=0.0), resc)
        assert info["n_poses"] == 1
        hv = heavy_atoms(poses)
        for a in args.exponents:
            sa = {n: v / max(hv[n], 1) ** a for n, v in sc.items()}
            add(f"pocketvox --rescore cnn, {exponent_label(a)}", sa, True,
                {"errors": info["errors"], "seconds": round(dt, 2), "size_exponent": a})
        for term, vals in info["terms"].items():
            add(f"  term {term} alone (cnn)", vals, term != "clash")
    add("heavy-atom count", heavy_atoms(poses), True)
    if not args.skip_vina:
        try:
            vs, info = vina_scores(poses, tmp)
            add("AutoDock Vina score-only", vs, False, info)
        except ImportError as e:
            print(f"# Vina baseline skipped: {e}", file=sys.stderr)
    return results


# ------------------------------------------------------------------------------------ throughput
def throughput(args, tmp: Path) -> dict:
    from rdkit import Chem

    from pocketvox.apps.screen import run_screen
    from pocketvox.apps.screen_maps import geometric_maps
    from pocketvox.structure.io import load_complex

    raw = gzip.open(DEKOIS / "poses.sdf.gz").read()
    big = tmp / "repeated.sdf.gz"
    with gzip.open(big, "wb", compresslevel=6) as f:
        for _ in range(args.repeat):
            f.write(raw)
    n_poses = raw.count(b"$$$$") * args.repeat
    cx = load_complex(str(PDB_1EVE), ligand=LIGAND)
    lig = cx.ligand.coords[cx.ligand.heavy]
    maps = geometric_maps(cx.protein, 0.5 * (lig.min(0) + lig.max(0)))
    out = {"poses": n_poses, "rounds": []}

    def rdkit_read(sanitize=True):
        t = time.perf_counter()
        n = sum(m is not None for m in Chem.ForwardSDMolSupplier(gzip.open(big), removeHs=False,
                                                                  sanitize=sanitize))
        return n, time.perf_counter() - t

    for r in range(args.rounds):
        row = {}
        n, dt = rdkit_read()
        row["rdkit_read_per_s"] = n / dt
        n, dt = rdkit_read(sanitize=False)
        row["rdkit_read_nosanitize_per_s"] = n / dt
        for j in args.jobs:
            t = time.perf_counter()
            s = run_screen(maps, [big], tmp / f"tp_{j}.csv", jobs=j, progress=False)
            dt = time.perf_counter() - t
            row[f"pocketvox_j{j}_per_s"] = s.records / dt
            row[f"pocketvox_j{j}_per_s_per_core"] = s.records / dt / j
        row["ratio_j1_vs_rdkit"] = row.get("pocketvox_j1_per_s", np.nan) / row["rdkit_read_per_s"]
        out["rounds"].append({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:,.0f}" if v > 10 else f"{k} {v:.2f}" for k, v in row.items()),
              flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["enrichment", "throughput"], default=None)
    ap.add_argument("--skip-vina", action="store_true")
    ap.add_argument("--geo-sizes", type=float, nargs="+", default=[24.0, 32.0],
                    help="Edges (Å) of the geometric map boxes to evaluate.")
    ap.add_argument("--repeat", type=int, default=41, help="Copies of the DEKOIS file (41 -> 50,840 poses).")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="Write the figures here as JSON.")
    ap.add_argument("--exponents", type=float, nargs="+", default=[0.0, 1 / 3, 0.5, 1.0],
                    help="Size normalisations to report: score / N_heavy^a.")
    ap.add_argument("--cnn", action="store_true", help="Also rescore every pose with the complex-mode network.")
    ap.add_argument("--model", default=None, help="Model for --cnn and the predicted maps (default: shipped).")
    args = ap.parse_args()
    if not DEKOIS.exists():
        sys.exit(f"needs the shared data at {DEKOIS}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {platform.node()} {platform.processor() or platform.machine()} "
          f"cpus={os.cpu_count()} python={platform.python_version()}", flush=True)
    res = {}
    with tempfile.TemporaryDirectory(prefix="pv_screen_bench_") as d:
        tmp = Path(d)
        if args.only in (None, "enrichment"):
            res["enrichment"] = enrichment(args, tmp)
        if args.only in (None, "throughput"):
            res["throughput"] = throughput(args, tmp)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
