"""``pocketvox export``: a smaller, faster copy of a model — channel pruning and/or int8.

Steps, each optional: prune ``fraction`` of every channel group (L1 norm, see
:mod:`pocketvox.volume.compress`), fine-tune the pruned float network for a few steps on training
grids, then static int8 quantisation calibrated on training grids. The result is an ordinary
``pocketvox-volume/1`` checkpoint: ``meta`` is the source model's (config, channel/class names,
thresholds, grid) plus ``meta['compression']`` — how it was made (source file and SHA-256, prune
fraction, kept widths per convolution, fine-tune steps and losses, quantisation engine, calibration
grids, date, versions). :func:`pocketvox.volume.compress.model_from_checkpoint` rebuilds any of them,
so an exported model loads wherever the default model loads.

Training grids come from, in order: ``data`` — a folder of complexes in the PoseBusters layout
(``<ID>/<ID>_protein.pdb`` + ``<ID>_ligand.sdf``; only the ``train`` list of its ``split.json`` when
present), profiled and gridded here; or the model's own adapter (``meta['adapter']`` with its stored
options), whose ``train`` dataset is used. Test complexes are never used.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from pocketvox.errors import InputFileError, PocketvoxError


class ExportError(PocketvoxError):
    """An impossible export request."""


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------- training grids
def complex_ids(folder, split: str | None = "train") -> list[str]:
    """Complex ids of a PoseBusters-layout folder (the ``split`` list of split.json when present)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"{folder}: not a folder of complexes")
    sj = folder / "split.json"
    if split is not None and sj.is_file():
        try:
            ids = json.loads(sj.read_text())
        except json.JSONDecodeError as e:
            raise InputFileError(f"{sj}: not valid JSON ({e.msg})") from None
        ids = ids.get(split) or ids.get("splits", {}).get(split) or []
        ids = [str(i) for i in ids if (folder / str(i) / f"{i}_protein.pdb").is_file()]
    else:
        ids = sorted(p.name for p in folder.iterdir() if (p / f"{p.name}_protein.pdb").is_file())
    if not ids:
        raise InputFileError(f"{folder}: no complexes (<ID>/<ID>_protein.pdb + <ID>_ligand.sdf) found")
    return ids


def molecular_samples(folder, meta: dict, split: str | None = "train", limit: int = 16, seed: int = 0,
                      progress: bool = False):
    """Training grids from a folder of complexes: yields ``{"inputs": (1, C, X, Y, Z), "targets":
    (1, K, X, Y, Z), "key"}`` in the model's channel and class order. For a network with ligand
    channels, every other sample is in pocket mode (ligand channels zero), so both modes are seen.
    Complexes that fail to load are skipped with a one-line message."""
    import torch

    from pocketvox.apps.explain import ExplainModel
    from pocketvox.cli.common import report_item_error
    from pocketvox.grid.labels import LabelParams, label_arrays, label_grid
    from pocketvox.interactions import profile
    from pocketvox.structure.io import load_complex

    class _Net:  # ExplainModel needs only the config's sizes here
        config = None

    m = ExplainModel.from_net(_Net(), meta)
    radius = ((meta.get("adapter_meta") or {}).get("options") or {}).get("label_radius")
    label_params = LabelParams(float(radius)) if radius else None
    classes = m.class_names
    has_lig = any(n.startswith("ligand") for n in m.channel_names)
    ids = complex_ids(folder, split)
    rng = np.random.default_rng(seed)
    ids = [ids[i] for i in rng.permutation(len(ids))]
    n = 0
    it = ids
    if progress:
        from tqdm import tqdm

        it = tqdm(ids, desc="training grids", unit="complex", total=min(limit, len(ids)))
    for cid in it:
        if n >= limit:
            break
        d = Path(folder) / cid
        try:
            cpx = load_complex(d / f"{cid}_protein.pdb", ligand_file=d / f"{cid}_ligand.sdf")
            inter = profile(cpx)
        except PocketvoxError as e:
            report_item_error(d, e)
            continue
        spec = m.spec_for(cpx)
        mode = "pocket" if (has_lig and n % 2 == 1) else "complex"
        x = m.features(cpx.protein, cpx.ligand, spec, mode)
        pts, memb = label_arrays(inter, classes)
        y = torch.from_numpy(label_grid(pts, memb, spec, label_params).astype(np.float32))[None]
        n += 1
        yield {"inputs": x, "targets": y, "key": f"{cid}:{mode}"}


def adapter_samples(meta: dict, limit: int = 16, seed: int = 0):
    """Training samples from the model's own adapter (domain-free route), batched as (1, ...)."""
    from pocketvox.volume.adapter import get_adapter

    name = meta.get("adapter")
    if not name:
        raise ExportError("the model records no adapter; give --data DIR with training complexes")
    opts = (meta.get("adapter_meta") or {}).get("options") or (meta.get("config") or {}).get("adapter_options") or {}
    ds = get_adapter(name, **opts).datasets(seed=seed).get("train")
    if ds is None or len(ds) == 0:
        raise ExportError(f"adapter {name!r} has no training data for calibration")
    for i in range(min(limit, len(ds))):
        it = ds[i]
        out = {"inputs": it["inputs"][None], "targets": it["targets"][None], "key": it.get("key", str(i))}
        if it.get("mask") is not None:
            out["mask"] = it["mask"][None]
        yield out


def training_samples(meta: dict, data=None, limit: int = 16, seed: int = 0, progress: bool = False) -> list[dict]:
    """A list of training samples (see the module docstring for the sources)."""
    src = molecular_samples(data, meta, limit=limit, seed=seed, progress=progress) if data is not None \
        else adapter_samples(meta, limit=limit, seed=seed)
    out = list(src)
    if not out:
        raise ExportError("no training grids could be made for calibration / fine-tuning")
    return out


# ------------------------------------------------------------------------------------------ export
def export_model(model, out, prune: float | None = None, quantize: str | None = None, finetune_steps: int = 0,
                 data=None, calib_grids: int = 16, finetune_grids: int = 64, lr: float = 5e-4,
                 engine: str | None = None, multiple: int = 1, seed: int = 0, progress: bool = True) -> dict:
    """Export ``model`` (checkpoint path) to ``out`` pruned and/or quantised; returns a report dict
    (``compression`` metadata plus parameters, bytes and the file written)."""
    import torch

    from pocketvox import __version__
    from pocketvox.volume import compress as C
    from pocketvox.volume.io import load_checkpoint, save_checkpoint

    if prune is None and quantize is None:
        raise ExportError("nothing to do: give --prune FRACTION and/or --quantize int8")
    if prune is not None and not 0.0 < float(prune) < 1.0:
        raise ExportError(f"--prune {prune}: expected a fraction of channels in (0, 1)")
    if quantize not in (None, "int8"):
        raise ExportError(f"--quantize {quantize!r}: only 'int8' is supported")
    if model is None or str(model) == "default":  # the shipped model, as everywhere else
        from pocketvox.apps.inference import resolve_model_path

        model = resolve_model_path(None)
    ck = load_checkpoint(model)
    meta = dict(ck["meta"])
    if meta.get("compression", {}).get("quantize"):
        raise ExportError(f"{model}: already quantised; export from the float model")
    torch.manual_seed(seed)
    net = C.model_from_checkpoint(ck)
    comp: dict = {"source": str(model), "source_sha256": _sha256(model), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                  "pocketvox_version": __version__, "torch": torch.__version__,
                  "source_parameters": C.n_parameters(net), "prune": None, "fine_tune": None, "quantize": None}
    samples = None
    if (prune and finetune_steps > 0) or quantize:
        samples = training_samples(meta, data, limit=max(calib_grids if quantize else 0,
                                                         finetune_grids if prune and finetune_steps > 0 else 0),
                                   seed=seed, progress=progress)
    if prune:
        try:
            net = C.prune_unet(net, float(prune), multiple=multiple)
        except ValueError as e:
            raise ExportError(str(e)) from None
        comp["prune"] = {"fraction": float(prune), "criterion": "L1 norm of BN-scaled filters", "multiple": multiple}
        if finetune_steps > 0:
            from pocketvox.volume.losses import make_loss

            lc = meta.get("config") or {}
            pw = lc.get("pos_weight", 5.0)  # one value, or one per class (as the model was trained)
            pw = tuple(float(v) for v in pw) if isinstance(pw, (list, tuple)) else float(pw)
            loss = make_loss({"name": "bce_jaccard", "pos_weight": pw,
                              "jaccard_weight": float(lc.get("jaccard_weight", 1.0))})
            t = time.perf_counter()
            losses = C.fine_tune(net, samples[:finetune_grids], finetune_steps, loss, lr=lr, progress=progress)
            comp["fine_tune"] = {"steps": int(finetune_steps), "lr": lr, "grids": min(len(samples), finetune_grids),
                                 "loss_first": round(losses[0], 5), "loss_last": round(losses[-1], 5),
                                 "seconds": round(time.perf_counter() - t, 1)}
        net = net.cpu().eval()
    if quantize:
        try:
            engine = engine or C.default_engine()
            net = C.quantize_int8(net, [s["inputs"] for s in samples[:calib_grids]], engine=engine)
        except (ValueError, RuntimeError) as e:
            raise ExportError(f"int8 quantisation failed: {e}") from None
        comp["quantize"] = "int8"
        comp["engine"] = engine
        comp["calibration_grids"] = min(len(samples), calib_grids)
        comp["scheme"] = ("static post-training; per-channel int8 conv weights, per-tensor transposed conv; "
                          "histogram observers")
    comp["widths"] = C.channel_widths(net)
    comp["parameters"] = C.n_parameters(net)
    if ck["meta"].get("compression"):
        comp["previous"] = ck["meta"]["compression"]  # e.g. a pruned + fine-tuned model quantised later
    meta["compression"] = comp
    path = save_checkpoint({"model": net.state_dict(), "meta": meta}, out)
    # the file must load back the way every consumer loads it
    with C._quiet():
        C.model_from_checkpoint(load_checkpoint(path))
    return {**comp, "file": str(path), "bytes": Path(path).stat().st_size, "source_bytes": Path(model).stat().st_size}
