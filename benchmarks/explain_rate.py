"""How often do the residues the profiler says make an interaction rank in the top-k of the
Grad-CAM attribution for that interaction's region — versus chance and versus plain proximity?

For each test-split complex (PoseBusters ``split.json``), complex mode, and each class with at least
one interaction: the region is the class's label voxels (spheres of the label radius around the
ligand-side points of that class's interactions); Grad-CAM (and HiResCAM, same pass) of that class
over that region gives a map; candidate residues are those with at least one atom inside the box;
they are ranked by summed (and by maximal) attribution at their atoms. For every residue the profiler
lists for that class, a hit at k is a rank ≤ k. Chance is the exact expectation for a random ranking
of the same candidates, k / n_candidates per residue. Proximity ranks the same candidates by the
distance from their nearest atom to the nearest region voxel — a model-free yardstick.

    .venv/bin/python benchmarks/explain_rate.py --model runs/default/best.pt --out benchmarks/results/explain_rate.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KS = (1, 3, 5)


def ranks_of(scores: dict, targets: list[str]) -> list[int]:
    """1-based rank of each target among the keys of ``scores`` (higher first; ties broken against
    the target, i.e. pessimistically)."""
    vals = np.array(list(scores.values()))
    return [int((vals >= scores[t]).sum()) for t in targets]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "runs/default/best.pt"))
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/posebusters"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--layers", default="default", help="comma-separated layers ('default': the last decoder block)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/explain_rate.json"))
    args = ap.parse_args(argv)

    from scipy.spatial import cKDTree
    from tqdm import tqdm

    from pocketvox.apps.explain import ExplainModel, atom_attribution
    from pocketvox.apps.export import complex_ids
    from pocketvox.errors import PocketvoxError
    from pocketvox.grid.labels import LabelParams, label_arrays, label_grid
    from pocketvox.interactions import profile
    from pocketvox.structure.io import load_complex
    from pocketvox.volume.explain import grad_cam_maps

    m = ExplainModel.load(args.model)
    radius = float(((m.meta.get("adapter_meta") or {}).get("options") or {}).get("label_radius", 1.5))
    ids = complex_ids(args.data, args.split)
    if args.limit:
        ids = ids[: args.limit]
    methods = ("gradcam", "hirescam")
    layers = [s.strip() for s in args.layers.split(",")]
    rankers = [f"{ly}:{mt}_{agg}" for ly in layers for mt in methods for agg in ("sum", "max")] + ["proximity"]
    rows = []
    failed = []
    t0 = time.time()
    for cid in tqdm(ids, desc="complexes", unit="complex"):
        d = Path(args.data) / cid
        try:
            cpx = load_complex(d / f"{cid}_protein.pdb", ligand_file=d / f"{cid}_ligand.sdf")
            inter = profile(cpx)
        except PocketvoxError as e:
            failed.append({"id": cid, "error": str(e)})
            continue
        spec = m.spec_for(cpx)
        x = m.features(cpx.protein, cpx.ligand, spec, "complex")
        prot = cpx.protein
        keys = prot.residue_keys().astype(str)
        inside = spec.contains(prot.coords)
        cand = sorted(set(keys[inside]))
        if len(cand) < 2:
            continue
        pts, memb = label_arrays(inter, m.class_names)
        labels = label_grid(pts, memb, spec, LabelParams(radius)).astype(bool)
        ikeys = np.char.add(np.char.add(np.char.add(inter.res_chain.astype(str), ":"),
                                        np.char.add(inter.res_num.astype(str), inter.res_icode.astype(str))),
                            np.char.add(":", inter.res_name.astype(str))) if len(inter) else np.zeros(0, str)
        for k, cls in enumerate(m.class_names):
            region = labels[k]
            plip = sorted(set(ikeys[memb[:, k]]) & set(cand)) if len(inter) else []
            if not region.any() or not plip:
                continue
            scores = {}
            for ly in layers:
                maps = grad_cam_maps(m.net, x, k, region=region, layer=None if ly == "default" else ly,
                                     methods=methods)
                for mt in methods:
                    df = atom_attribution(maps[mt], spec, prot)
                    df = df[df.residue.isin(cand)]
                    g = df.groupby("residue").attribution
                    scores[f"{ly}:{mt}_sum"] = g.sum().to_dict()
                    scores[f"{ly}:{mt}_max"] = g.max().to_dict()
            vox = spec.to_coords(np.argwhere(region))
            dist, _ = cKDTree(vox).query(prot.coords[inside])
            dres = {}
            for key, dd in zip(keys[inside], dist):
                dres[key] = min(dres.get(key, np.inf), dd)
            scores["proximity"] = {key: -v for key, v in dres.items()}
            n = len(cand)
            for name in rankers:
                rk = ranks_of(scores[name], plip)
                for r in rk:
                    rows.append({"id": cid, "class": cls, "ranker": name, "rank": r, "n": n})
    out = {"date": time.strftime("%Y-%m-%d %H:%M"), "model": args.model, "model_epoch": m.meta.get("epoch"),
           "layers": layers,
           "split": args.split, "complexes": len(ids), "failed": failed, "seconds": round(time.time() - t0, 1),
           "by_class": {}, "overall": {}}
    for cls in [*m.class_names, "all"]:
        sel = [r for r in rows if cls == "all" or r["class"] == cls]
        if not sel:
            continue
        block = {}
        for name in rankers:
            rr = [r for r in sel if r["ranker"] == name]
            block[name] = {f"top{k}": round(float(np.mean([r["rank"] <= k for r in rr])), 4) for k in KS}
            block[name]["median_percentile"] = round(float(np.median([r["rank"] / r["n"] for r in rr])), 4)
        rr = [r for r in sel if r["ranker"] == rankers[0]]
        block["chance"] = {f"top{k}": round(float(np.mean([min(k, r["n"]) / r["n"] for r in rr])), 4) for k in KS}
        block["chance"]["median_percentile"] = 0.5
        block["n_residue_interactions"] = len(rr)
        block["median_candidates"] = float(np.median([r["n"] for r in rr]))
        (out["overall"] if cls == "all" else out["by_class"])[cls] = block
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"{'ranker':<28} " + " ".join(f"top{k:<5}" for k in KS) + " median-pct")
    for name, v in out["overall"].get("all", {}).items():
        if isinstance(v, dict) and 'top1' in v:
            print(f"{name:<28} " + " ".join(f"{v[f'top{k}']:<8.3f}" for k in KS) + f" {v['median_percentile']:.3f}")
    print(f"n = {out['overall'].get('all', {}).get('n_residue_interactions')} residue-interactions")


if __name__ == "__main__":
    main()
