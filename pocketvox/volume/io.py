"""Atomic file writes and checkpoint (de)serialisation for the volume core.

A checkpoint is a plain dict loadable with ``torch.load(path, weights_only=True)``:

``{"format": "pocketvox-volume/1", "model": {name: tensor}, "meta": {JSON-able}, ...}`` plus, in
training checkpoints, ``optimizer``, ``scheduler``, ``scaler`` state dicts, ``epoch`` and the torch RNG
state, so ``--resume`` continues exactly. ``meta`` holds the config, channel and target names, grid
geometry, split, versions, metrics and decision thresholds.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from pocketvox.atomic import atomic_write_bytes  # re-exported for the trainer

__all__ = ["atomic_write_bytes", "load_checkpoint", "save_checkpoint"]

FORMAT = "pocketvox-volume/1"


def save_checkpoint(obj: dict, path) -> Path:
    import torch

    obj = dict(obj)
    obj.setdefault("format", FORMAT)
    # meta is kept as a JSON string so that any nesting survives weights_only loading unchanged
    if "meta" in obj and not isinstance(obj["meta"], str):
        obj["meta"] = json.dumps(obj["meta"])
    buf = io.BytesIO()
    torch.save(obj, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint with ``weights_only=True``; ``meta`` comes back as a dict.

    Raises :class:`pocketvox.errors.ModelError` with one line for missing or foreign files.
    """
    import torch

    from pocketvox.errors import ModelError

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad model file
        raise ModelError(f"{path}: not a pocketvox model checkpoint ({type(e).__name__})") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or "model" not in obj:
        fmt = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise ModelError(f"{path}: not a pocketvox model checkpoint (format {fmt})")
    meta = obj.get("meta", "{}")
    obj["meta"] = json.loads(meta) if isinstance(meta, str) else dict(meta)
    return obj
