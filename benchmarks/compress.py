"""Float vs pruned vs int8 vs pruned+int8: parameters, file size, CPU time per grid and per predict,
and test-split Jaccard per class and mode — one run, same inputs.

    .venv/bin/python benchmarks/compress.py --model runs/default/best.pt --prune 0.5 --finetune-steps 60 \\
        --out benchmarks/results/compress.json

The exported models are made with the real ``export_model`` path (training grids from the model's
own molecular adapter, i.e. the dataset cache's train split); test grids come from the same adapter's
test split, every complex in both modes. Times are medians over interleaved repeats (variant order
rotates each repeat, so load drift on a shared machine hits every variant alike).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def jaccard_by_mode(net, test, classes, thresholds: dict, batch: int = 8) -> dict:
    from pocketvox.volume.metrics import ScoreHistogram

    hists = {m: ScoreHistogram(len(classes)) for m in ("complex", "pocket")}
    items = [test[i] for i in range(len(test))]
    with torch.no_grad():
        for i in range(0, len(items), batch):
            chunk = items[i:i + batch]
            x = torch.stack([it["inputs"] for it in chunk])
            p = torch.sigmoid(net(x)).numpy()
            for it, pb in zip(chunk, p):
                mode = it["key"].rsplit(":", 1)[-1]
                hists[mode if mode in hists else "complex"].update(pb, it["targets"].numpy())
    out = {}
    for mode, h in hists.items():
        sc = h.at(thresholds.get(mode, thresholds["default"]))
        out[mode] = {c: round(s["jaccard"], 4) for c, s in zip(classes, sc)}
        out[mode]["mean"] = round(float(np.mean([s["jaccard"] for s in sc])), 4)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "runs/default/best.pt"))
    ap.add_argument("--prune", type=float, default=0.5)
    ap.add_argument("--finetune-steps", type=int, default=60)
    ap.add_argument("--finetune-grids", type=int, default=64)
    ap.add_argument("--calib-grids", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--limit", type=int, default=0, help="test grids (0: all)")
    ap.add_argument("--example", default=str(ROOT / "data/examples/7NGW_protein.pdb"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/compress.json"))
    args = ap.parse_args(argv)

    from pocketvox.apps.export import export_model
    from pocketvox.apps.inference import Predictor
    from pocketvox.apps.predict import predict
    from pocketvox.volume import compress as C
    from pocketvox.volume.adapter import get_adapter

    tmp = Path(tempfile.mkdtemp(prefix="pvx_compress_"))
    src = Path(args.model)
    t0 = time.time()
    files = {"float": src}
    files["int8"] = tmp / "int8.pt"
    export_model(src, files["int8"], quantize="int8", calib_grids=args.calib_grids, progress=False)
    files[f"pruned{args.prune:g}"] = tmp / "pruned.pt"
    rep_p = export_model(src, files[f"pruned{args.prune:g}"], prune=args.prune, finetune_steps=args.finetune_steps,
                         finetune_grids=args.finetune_grids, progress=True)
    files[f"pruned{args.prune:g}+int8"] = tmp / "pruned_int8.pt"
    export_model(files[f"pruned{args.prune:g}"], files[f"pruned{args.prune:g}+int8"], quantize="int8",
                 calib_grids=args.calib_grids, progress=False)
    t_export = time.time() - t0

    models, meta = {}, None
    for name, f in files.items():
        models[name], m = C.load_model(f)
        meta = meta or m
    opts = meta["adapter_meta"]["options"]
    classes = list(meta["target_names"])
    th = {"default": meta.get("thresholds", [0.5] * len(classes)), **(meta.get("thresholds_by_mode") or {})}
    test = get_adapter(meta["adapter"], **opts).datasets(seed=0)["test"]
    if args.limit and args.limit < len(test):  # evenly spread, so both modes are represented
        test = [test[int(i)] for i in np.linspace(0, len(test) - 1, args.limit).round()]

    res = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.machine()}, {torch.get_num_threads()} "
           f"torch threads, {platform.processor() or 'cpu'}", "torch": torch.__version__,
           "engine": torch.backends.quantized.engine, "model": str(src), "model_epoch": meta.get("epoch"),
           "prune": args.prune, "finetune_steps": args.finetune_steps, "finetune": rep_p.get("fine_tune"),
           "test_grids": len(test), "export_seconds": round(t_export, 1), "variants": {}}
    for name, net in models.items():
        res["variants"][name] = {"parameters": C.n_parameters(net), "file_bytes": Path(files[name]).stat().st_size}

    # per-grid CPU time, interleaved
    x = test[0]["inputs"][None]
    names = list(models)
    times = {n: [] for n in names}
    with torch.no_grad():
        for n in names:
            models[n](x)  # warm-up
        for r in range(args.repeats):
            for n in names[r % len(names):] + names[:r % len(names)]:
                t = time.perf_counter()
                models[n](x)
                times[n].append(time.perf_counter() - t)
    # per-predict (read, profile, grid, predict, hotspots; no file writing), interleaved
    preds = {n: Predictor(models[n], meta, device="cpu", name=n) for n in names}
    ptimes = {n: [] for n in names}
    for r in range(max(3, args.repeats // 2)):
        for n in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter()
            predict(args.example, ligand_file=str(args.example).replace("_protein.pdb", "_ligand.sdf"),
                    mode="pocket", predictor=preds[n])
            ptimes[n].append(time.perf_counter() - t)
    for n in names:
        v = res["variants"][n]
        v["seconds_per_grid"] = round(float(np.median(times[n])), 4)
        v["seconds_per_predict"] = round(float(np.median(ptimes[n])), 4)
        v["jaccard"] = jaccard_by_mode(models[n], test, classes, th)
    base = res["variants"]["float"]
    for n in names:
        v = res["variants"][n]
        v["speedup_grid"] = round(base["seconds_per_grid"] / v["seconds_per_grid"], 2)
        v["speedup_predict"] = round(base["seconds_per_predict"] / v["seconds_per_predict"], 2)
        v["smaller"] = round(base["file_bytes"] / v["file_bytes"], 2)
        v["mean_jaccard_loss"] = {m: round(base["jaccard"][m]["mean"] - v["jaccard"][m]["mean"], 4)
                                  for m in ("complex", "pocket")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print("| variant | params | file MB | s/grid | × | s/predict | × | smaller | " +
          " | ".join(f"J {m} {c}" for m in ("complex", "pocket") for c in [*classes, "mean"]) + " |")
    for n in names:
        v = res["variants"][n]
        js = " | ".join(f"{v['jaccard'][m][c]:.3f}" for m in ("complex", "pocket") for c in [*classes, "mean"])
        print(f"| {n} | {v['parameters']:,} | {v['file_bytes'] / 1e6:.2f} | {v['seconds_per_grid']:.3f} | "
              f"{v['speedup_grid']:.2f} | {v['seconds_per_predict']:.3f} | {v['speedup_predict']:.2f} | "
              f"{v['smaller']:.2f} | {js} |")


if __name__ == "__main__":
    main()
