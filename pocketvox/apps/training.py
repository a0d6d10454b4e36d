"""Molecular training workflow around the domain-free trainer: per-mode thresholds and model export.

After :func:`pocketvox.volume.trainer.train`, :func:`finalize` re-chooses the decision thresholds of the
best checkpoint on the validation split separately for complex and pocket mode (the two questions have
different base rates) and stores them as ``meta["thresholds_by_mode"]``; :func:`export_model` writes a
slim copy (weights + metadata, no optimizer state) such as the shipped ``pocketvox/models/default.pt``
with a readable ``default.json`` beside it.
"""

from __future__ import annotations

import json
from pathlib import Path


def finalize(run_dir, progress: bool = False) -> dict:
    """Calibrate per-mode thresholds of ``run_dir/best.pt`` on its validation split; returns them."""
    from pocketvox.adapters.molecular import MolecularAdapter
    from pocketvox.apps.evaluate import calibrate_thresholds
    from pocketvox.apps.inference import Predictor
    from pocketvox.volume.io import load_checkpoint, save_checkpoint

    path = Path(run_dir) / "best.pt"
    ck = load_checkpoint(path)
    meta = ck["meta"]
    opts = dict(meta["adapter_meta"]["options"])
    adapter = MolecularAdapter(**opts)
    items = adapter.split_items("val")
    pred = Predictor.load(path)
    th = calibrate_thresholds(pred, items)
    meta["thresholds_by_mode"] = th
    save_checkpoint({"model": ck["model"], "meta": meta}, path)
    return th


def export_model(checkpoint, out_path, test_results: dict | None = None) -> Path:
    """Slim copy of a checkpoint (weights + meta) at ``out_path`` and its metadata as JSON beside it."""
    from pocketvox.volume.io import atomic_write_bytes, load_checkpoint, save_checkpoint

    ck = load_checkpoint(checkpoint)
    meta = ck["meta"]
    if test_results is not None:
        meta["test_results"] = test_results
    out_path = Path(out_path)
    save_checkpoint({"model": ck["model"], "meta": meta}, out_path)
    atomic_write_bytes(out_path.with_suffix(".json"), json.dumps(meta, indent=2).encode())
    return out_path
