"""Score a model and its baselines on the test split in both modes; print a Markdown table.

    .venv/bin/python benchmarks/evaluate_model.py [--model pocketvox/models/default.pt]
        [--data runs/posebusters.h5] [--split test] [--json out.json]

``--data`` is a dataset cache (``pocketvox dataset build``) or a folder of complexes with split.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

CLASSES = ("hbond", "hydrophobic", "pistacking")


def table(res: dict) -> str:
    rows = ["| mode | class | model Jaccard | baseline Jaccard | model P / R | baseline P / R | model AP "
            "| baseline AP |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for mode, r in res.items():
        for c in CLASSES:
            m, b = r["model"][c], r["baseline"][c]
            rows.append(f"| {mode} | {c} | {m['jaccard']:.3f} | {b['jaccard']:.3f} | {m['precision']:.3f} / "
                        f"{m['recall']:.3f} | {b['precision']:.3f} / {b['recall']:.3f} | {m['ap']} | {b['ap']} |")
        rows.append(f"| {mode} | **mean** | **{r['model']['mean_jaccard']:.3f}** | "
                    f"**{r['baseline']['mean_jaccard']:.3f}** | | | | |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", default="runs/posebusters.h5")
    ap.add_argument("--split", default="test")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    from pocketvox.apps.evaluate import evaluate
    from pocketvox.apps.inference import Predictor

    pred = Predictor.load(a.model, device=a.device)
    res, t0 = {}, time.time()
    for mode in ("complex", "pocket"):
        res[mode] = evaluate(a.data, mode=mode, split=a.split, predictor=pred, progress=False)
    info = {"model": pred.name, "epoch": pred.meta.get("epoch"), "split": a.split, "data": a.data,
            "n_complexes": res["complex"]["n_complexes"], "failed": res["complex"]["failed"],
            "seconds": round(time.time() - t0, 1), "machine": platform.node(), "date": time.strftime("%Y-%m-%d")}
    print(json.dumps(info))
    print(table(res))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"info": info, "results": res}, f, indent=2)


if __name__ == "__main__":
    main()
