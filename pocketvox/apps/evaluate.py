"""``pocketvox evaluate``: per-class Jaccard, precision, recall and AP of a model and its baseline.

The data (a folder of complexes, or a dataset cache) is profiled and gridded exactly as in training
(no augmentation, grid centred on the ligand); the model runs in ``mode`` (pocket: ligand channels
empty); voxels are called positive at the model's stored threshold for that mode (chosen on the
validation split). AP is computed over all voxels of all complexes (``ScoreHistogram``, 1000 bins).
Baselines: :mod:`pocketvox.apps.baselines`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pocketvox.errors import PocketvoxError


def load_items(data, split: str | None = None, progress: bool = True, on_error=None):
    """(list of CachedComplex, failed [[id, reason]]) from a cache file or a folder of complexes.

    ``split`` keeps only that split's ids (cache split, or the folder's split.json); ``None``/'all' keeps all.
    """
    from pocketvox.apps.dataset import CachedComplex, discover, process_complex, read_cache, unbits

    data = Path(data)
    if data.is_file():
        items, info = read_cache(data)
        ids = list(items) if split in (None, "all") else [i for i in info["split"].get(split, []) if i in items]
        return [items[i] for i in ids], []
    import json

    sources = discover(data)
    split_file = data / "split.json"
    if split not in (None, "all") and split_file.is_file():
        keep = set(json.loads(split_file.read_text()).get(split, []))
        sources = [s for s in sources if s.id in keep]
    if not sources:
        raise PocketvoxError(f"{data}: no complexes to evaluate" + (f" in split {split!r}" if split else ""))
    from pocketvox.grid import ALL_LABEL_CLASSES, channel_names

    nc, nl = len(channel_names(True)), len(ALL_LABEL_CLASSES)
    out, failed = [], []
    it = sources
    if progress:
        from tqdm import tqdm

        it = tqdm(sources, desc="profiling", unit="complex")
    for s in it:
        try:
            d = process_complex(s)
        except (PocketvoxError, ValueError, RuntimeError, OSError) as e:
            failed.append([s.id, f"{type(e).__name__}: {e}"])
            if on_error is not None:
                on_error(s, e)
            continue
        out.append(CachedComplex(s.id, d["coords"], d["radii"], unbits(d["types"], nc), d["label_points"],
                                 unbits(d["label_classes"], nl), d["lig_rings"], d["prot_rings"],
                                 d["prot_ring_normals"], np.asarray(d["center"]), d["ligand_id"], d["source"]))
    return out, failed


def _summary(hist, thresholds, classes) -> dict:
    scores = hist.at(thresholds)
    ap = hist.average_precision()
    out = {}
    for k, c in enumerate(classes):
        out[c] = {"jaccard": round(scores[k]["jaccard"], 4), "precision": round(scores[k]["precision"], 4),
                  "recall": round(scores[k]["recall"], 4),
                  "ap": None if math.isnan(ap[k]) else round(float(ap[k]), 4)}
    out["mean_jaccard"] = round(float(np.mean([out[c]["jaccard"] for c in classes])), 4)
    return out


def evaluate(data, model=None, mode: str = "complex", split: str | None = "test", device: str = "cpu",
             batch_size: int = 8, progress: bool = True, on_error=None, predictor=None) -> dict:
    """Model and baseline scores on ``data`` in ``mode``; the JSON of issue 4 (see module docstring)."""
    from pocketvox.adapters.molecular import N_KINDS, ComplexGrids
    from pocketvox.apps.baselines import PocketRuleParams, complex_baseline, pocket_baseline
    from pocketvox.apps.inference import Predictor
    from pocketvox.grid import ALL_LABEL_CLASSES
    from pocketvox.volume.metrics import ScoreHistogram

    if mode not in ("complex", "pocket"):
        raise PocketvoxError(f"--mode {mode!r}: expected 'pocket' or 'complex'")
    pred = predictor or Predictor.load(model, device=device)
    classes = pred.class_names
    items, failed = load_items(data, split, progress=progress, on_error=on_error)
    opts = pred.meta.get("adapter_meta", {}).get("options", {})
    ds = ComplexGrids(items, classes, ALL_LABEL_CLASSES, pred.size, pred.resolution, modes=mode,
                      augment=False, label_radius=float(opts.get("label_radius", 1.5)))
    k = len(classes)
    h_model, h_base = ScoreHistogram(k), ScoreHistogram(k)
    rule = PocketRuleParams()
    idx = range(len(ds))
    if progress:
        from tqdm import tqdm

        idx = tqdm(idx, desc=f"evaluating ({mode})", unit="complex")
    buf_x, buf_y = [], []

    def flush():
        if buf_x:
            probs = pred.predict_grids(np.stack(buf_x), batch_size=batch_size)
            for p, y in zip(probs, buf_y):
                h_model.update(p, y)
            buf_x.clear()
            buf_y.clear()

    for i in idx:
        g, _, it = ds.sample(i)
        buf_x.append(g.features)
        buf_y.append(g.labels)
        is_lig = it.types[:, N_KINDS:].any(1)
        if mode == "complex":
            b = complex_baseline(it.coords[is_lig].astype(np.float64), it.types[is_lig, N_KINDS:], it.lig_rings,
                                 g.spec, classes, radius=float(opts.get("label_radius", 1.5)))
        else:
            prot = ~is_lig
            b = pocket_baseline(it.coords[prot].astype(np.float64), it.types[prot, :N_KINDS], it.prot_rings,
                                it.prot_ring_normals, g.spec, classes, rule)
        h_base.update(b, g.labels)
        if len(buf_x) >= batch_size:
            flush()
    flush()
    base_th = [0.5] * k
    return {
        "model": _summary(h_model, pred.thresholds(mode), classes),
        "baseline": _summary(h_base, base_th, classes),
        "n_complexes": len(items),
        "failed": failed,
    }


def calibrate_thresholds(predictor, items, modes=("complex", "pocket"), batch_size: int = 8) -> dict:
    """{mode: [threshold per class]} maximising Jaccard over ``items`` (the validation split)."""
    from pocketvox.adapters.molecular import ComplexGrids
    from pocketvox.grid import ALL_LABEL_CLASSES
    from pocketvox.volume.metrics import ScoreHistogram

    opts = predictor.meta.get("adapter_meta", {}).get("options", {})
    out = {}
    for mode in modes:
        ds = ComplexGrids(items, predictor.class_names, ALL_LABEL_CLASSES, predictor.size, predictor.resolution,
                          modes=mode, augment=False, label_radius=float(opts.get("label_radius", 1.5)))
        h = ScoreHistogram(len(predictor.class_names))
        for lo in range(0, len(ds), batch_size):
            samples = [ds.sample(i)[0] for i in range(lo, min(lo + batch_size, len(ds)))]
            probs = predictor.predict_grids(np.stack([s.features for s in samples]), batch_size=batch_size)
            for p, s in zip(probs, samples):
                h.update(p, s.labels)
        out[mode] = [round(float(t), 4) for t in h.best_thresholds()]
    return out
