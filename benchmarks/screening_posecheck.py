"""Choosing the screening score on data that is not DEKOIS: native pose vs rigid decoys, PoseBusters val.

For each complex of the PoseBusters *validation* split (never DEKOIS, never the test split), the
crystal ligand pose competes with ``--decoys`` copies of itself rigidly perturbed (random rotation
about its centroid by 30-180 degrees and a 1-3 Å shift). Every pose is scored by the map score
(pocket-mode maps predicted once for the pocket, 32 Å box) and by ``--rescore cnn`` (the
complex-mode network on each pose), additive. Reported per method: the fraction of complexes whose
crystal pose ranks first, and the mean per-complex AUROC (crystal vs decoys). All poses of a complex
share the molecule, so size normalisation does not change these rankings: this check decides
between the map and the network score, not the exponent.

    .venv/bin/python benchmarks/screening_posecheck.py --model M.pt --limit 31 --decoys 9
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POCKETVOX_SHARED", ROOT.parent / "shared"))
PB = SHARED / "data" / "posebusters"


def rotation(rng) -> np.ndarray:
    """A random rotation matrix with angle in [30, 180] degrees."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    ang = np.deg2rad(rng.uniform(30, 180))
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(ang) * K + (1 - np.cos(ang)) * K @ K


def write_poses(sdf: Path, out: Path, n: int, rng) -> None:
    from rdkit import Chem

    mol = next(m for m in Chem.SDMolSupplier(str(sdf), removeHs=False, sanitize=False) if m is not None)
    xyz = mol.GetConformer().GetPositions()
    c = xyz.mean(0)
    w = Chem.SDWriter(str(out))
    for k in range(n + 1):
        m = Chem.Mol(mol)
        if k:
            shift = rng.normal(size=3)
            shift *= rng.uniform(1.0, 3.0) / np.linalg.norm(shift)
            new = (xyz - c) @ rotation(rng).T + c + shift
            conf = m.GetConformer()
            for i, p in enumerate(new):
                conf.SetAtomPosition(i, p.tolist())
        m.SetProp("_Name", "native" if k == 0 else f"decoy{k}")
        w.write(m)
    w.close()


def main(argv=None):
    from sklearn.metrics import roc_auc_score

    from pocketvox.apps.screen import pocket_maps, read_results, run_screen
    from pocketvox.apps.screen_cnn import cnn_rescorer
    from pocketvox.apps.screen_score import ScoreParams

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--decoys", type=int, default=9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    ids = json.loads((PB / "split.json").read_text())[args.split]
    ids = ids[: args.limit] if args.limit else ids
    rng = np.random.default_rng(args.seed)
    params = ScoreParams(size_exponent=0.0)
    res = {m: {"top1": [], "auroc": []} for m in ("maps", "cnn")}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        for cid in ids:
            prot, lig = PB / cid / f"{cid}_protein.pdb", PB / cid / f"{cid}_ligand.sdf"
            lib = Path(d) / f"{cid}.sdf"
            try:
                write_poses(lig, lib, args.decoys, rng)
                maps = pocket_maps(str(prot), pocket=str(lig), model=args.model, box=32.0)
                resc = cnn_rescorer(str(prot), pocket=str(lig), model=args.model)
                dfs = {"maps": run_screen(maps, [lib], Path(d) / "m.csv", params=params, progress=False),
                       "cnn": run_screen(maps, [lib], Path(d) / "c.csv", params=params, progress=False,
                                         rescorer=resc)}
            except Exception as e:  # noqa: BLE001 - report and go on
                print(f"{cid}: skipped ({type(e).__name__}: {e})", flush=True)
                continue
            for m, s in dfs.items():
                df = read_results(s.results)
                y = (df["name"] == "native").to_numpy()
                if y.sum() != 1 or len(df) < 2:
                    continue
                res[m]["top1"].append(float(df["name"].iloc[0] == "native"))
                res[m]["auroc"].append(float(roc_auc_score(y, df["score"].to_numpy())))
            print(cid, {m: (res[m]["top1"][-1], round(res[m]["auroc"][-1], 3)) for m in res if res[m]["top1"]},
                  flush=True)
    summary = {m: {"complexes": len(v["top1"]), "native_first": round(float(np.mean(v["top1"])), 3),
                   "mean_auroc": round(float(np.mean(v["auroc"])), 3)} for m, v in res.items() if v["top1"]}
    summary["chance_native_first"] = round(1 / (args.decoys + 1), 3)
    summary["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
