"""``pocketvox segment`` (medical volumes → label NIfTI) and ``pocketvox infer`` (pressure-level
atmosphere → precipitable-water NetCDF).

    pocketvox segment scan.nii.gz -o labels.nii.gz --model runs/medical_tissue/best.pt
    pocketvox segment scan.nii.gz -o labels.nii.gz --baseline kmeans      # no model: intensity clusters
    pocketvox infer nam.grib2 -o pwat.nc --model runs/climate_pw/model.pt

Both run tiled with halos (exact, memory bounded by the tile). Several inputs: the output must be a
folder; a bad input is reported and the others go on (exit status 1 if any failed).
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np


def _outputs(inputs, output, suffix):
    if len(inputs) == 1 and not (Path(output).is_dir() or str(output).endswith("/")):
        return [Path(output)]
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for p in inputs:
        stem = Path(p).name
        for ext in (".nii.gz", ".nii", ".grib2", ".grb2", ".nc"):
            if stem.endswith(ext):
                stem = stem[: -len(ext)]
                break
        names.append(out / f"{stem}{suffix}")
    return names


def _run_batch(inputs, outputs, fn):
    from pocketvox.cli.common import is_debug, report_item_error
    from pocketvox.errors import PocketvoxError

    failed = 0
    for src, dst in zip(inputs, outputs):
        try:
            fn(src, dst)
            click.echo(f"{src} -> {dst}", err=True)
        except PocketvoxError as e:
            if len(inputs) == 1 or is_debug():
                raise
            report_item_error(src, e)
            failed += 1
    if failed:
        raise SystemExit(1)


def load_segmenter(path):
    """(model, adapter) from a core checkpoint trained through the medical adapter."""
    from pocketvox.adapters.medical import MedicalAdapter, MedicalConfig
    from pocketvox.errors import ModelError
    from pocketvox.volume.io import load_checkpoint
    from pocketvox.volume.unet import build_unet

    try:
        ck = load_checkpoint(path)
        meta = ck["meta"]
    except Exception as e:  # noqa: BLE001 - any failure is an unusable model file
        raise ModelError(f"{path}: cannot read model checkpoint ({type(e).__name__}: {e})") from None
    if meta.get("adapter") != "medical":
        raise ModelError(f"{path}: model was trained for the {meta.get('adapter')!r} adapter, not 'medical'")
    model = build_unet(meta["model"])
    model.load_state_dict(ck["model"])
    cfg = MedicalConfig.from_dict(meta.get("adapter_meta", {}).get("config", {}))
    return model.eval(), MedicalAdapter(cfg)


def segment_image(src, dst, model=None, adapter=None, baseline=None, tile: int = 96, threads: int = 0):
    """Segment one scan and write the label map (NIfTI, the resampled input's affine)."""
    from pocketvox.adapters.medical import MedicalAdapter, kmeans_segment, multi_otsu_segment, read_image

    adapter = adapter or MedicalAdapter()
    img = read_image(src)
    x, mask, img_r = adapter.prepare(img)
    if baseline is not None:
        region = mask if mask is not None else np.ones(img_r.shape, bool)
        fn = multi_otsu_segment if baseline == "otsu" else kmeans_segment
        labels = fn(img_r.data, region, classes=len(adapter.target_names) - 1)
    else:
        import torch

        from pocketvox.volume.tiling import tiled_apply

        if threads:
            torch.set_num_threads(threads)
        logits = tiled_apply(model, torch.from_numpy(x)[None], tile=tile)
        labels = logits[0].argmax(0).numpy()
    names = ",".join(f"{i} {n}" for i, n in enumerate(adapter.target_names))
    from pocketvox.adapters.medical import write_nifti

    write_nifti(dst, labels.astype(np.uint8), img_r.affine, description=names)
    return labels


@click.command("segment")
@click.argument("images", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="Output .nii.gz (or folder for several).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), help="Checkpoint from `pocketvox train` "
              "with adapter = 'medical'.")
@click.option("--baseline", type=click.Choice(["otsu", "kmeans"]), help="No model: multi-Otsu or k-means "
              "intensity classes within the mask (T1: CSF < GM < WM).")
@click.option("--tile", default=96, show_default=True, help="Tile edge in voxels (memory bound).")
@click.option("--threads", default=0, help="torch CPU threads (0: default).")
def segment(images, output, model_path, baseline, tile, threads):
    """Segment NIfTI / DICOM volumes into a label map (NIfTI with the input's affine)."""
    from pocketvox.errors import PocketvoxError

    if (model_path is None) == (baseline is None):
        raise PocketvoxError("give exactly one of --model or --baseline")
    model = adapter = None
    if model_path is not None:
        model, adapter = load_segmenter(model_path)
    outs = _outputs(images, output, "_labels.nii.gz")
    _run_batch(images, outs, lambda s, d: segment_image(s, d, model, adapter, baseline, tile, threads))


def infer_file(src, dst, model, tile: int = 32, time_index: int = 0, write_q: bool = False):
    """Predict PW for one file and write CF-NetCDF."""
    import torch

    from pocketvox.adapters.climate import ClimateAdapter, tiled_predict
    from pocketvox.errors import ModelError

    ad = ClimateAdapter()
    fields, x, dp, _ = ad.load(src, time_index)
    if x.shape[0] != model.config["n_channels"] or x.shape[1] != model.config["n_levels"]:
        raise ModelError(f"{src}: {x.shape[0]} channels x {x.shape[1]} levels, model expects "
                         f"{model.config['n_channels']} x {model.config['n_levels']}")
    model.periodic_x = fields.periodic_x
    xt, dt = torch.from_numpy(x)[None], torch.from_numpy(dp)[None]
    pw = tiled_predict(model, xt, dt, tile=(tile, tile))[0].numpy()
    q = None
    if write_q:
        with torch.no_grad():
            q = model.humidity(xt)[0].numpy()
    ad.write_pwat(dst, pw, fields, q)
    return pw


@click.command("infer")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="Output .nc (or folder for several).")
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False),
              help="Climate PW model (benchmarks/climate.py --save, or pocketvox.adapters.climate.save_pw_net).")
@click.option("--tile", default=32, show_default=True, help="Tile edge in grid columns.")
@click.option("--time-index", default=0, show_default=True, help="Time step of files with a time axis.")
@click.option("--write-q", is_flag=True, help="Also write the predicted specific humidity per level.")
def infer(files, output, model_path, tile, time_index, write_q):
    """Predict precipitable water (kg m-2) from t, gh, u on pressure levels (NetCDF or GRIB2)."""
    from pocketvox.adapters.climate import load_pw_net

    model = load_pw_net(model_path)
    outs = _outputs(files, output, "_pwat.nc")
    _run_batch(files, outs, lambda s, d: infer_file(s, d, model, tile, time_index, write_q))


# ---------------------------------------------------------------------------------- evaluate (domains)
CONFIG_SUFFIXES = (".toml", ".yaml", ".yml")
CLIMATE_SUFFIXES = (".nc", ".nc4", ".grib2", ".grb2", ".grib", ".grb")


def domain_of(data, model_path=None) -> str | None:
    """'medical' / 'climate' when ``pocketvox evaluate DATA --model M`` is about a non-molecular
    domain (DATA a training config of that adapter, a NetCDF/GRIB file, or M a checkpoint of that
    adapter); None otherwise (the molecular evaluation)."""
    path = Path(data)
    name = path.name.lower()
    if name.endswith(CONFIG_SUFFIXES):
        from pocketvox.volume.trainer import load_config_file

        adapter = load_config_file(path).get("adapter", "molecular")
        return adapter if adapter in ("medical", "climate") else None
    if name.endswith(CLIMATE_SUFFIXES):
        return "climate"
    if model_path and Path(model_path).is_file() and Path(model_path).suffix == ".pt":
        from pocketvox.volume.io import load_checkpoint

        try:
            adapter = load_checkpoint(model_path)["meta"].get("adapter")
        except Exception:  # noqa: BLE001 - not a core checkpoint: let the molecular path report it
            return None
        return adapter if adapter in ("medical", "climate") else None
    return None


def _scores(p, y) -> dict:
    p, y = np.ravel(p).astype(np.float64), np.ravel(y).astype(np.float64)
    return {"rmse": round(float(np.sqrt(np.mean((p - y) ** 2))), 4),
            "corr": round(float(np.corrcoef(p, y)[0, 1]), 4), "bias": round(float(np.mean(p - y)), 4)}


def evaluate_climate(data, model_path, tile: int = 32) -> dict:
    """PW scores (RMSE, correlation, bias in kg m-2) against each file's ``pwat``, for the model and
    for a linear regression fitted on the model's training files (when they are readable).

    data : a NetCDF/GRIB2 file, or a climate training config (its ``val`` files are scored)
    """
    import torch

    from pocketvox.adapters.climate import ClimateAdapter, linear_baseline_features, load_pw_net, tiled_predict
    from pocketvox.errors import PocketvoxError
    from pocketvox.volume.trainer import load_config_file

    if model_path is None:
        raise PocketvoxError("climate evaluation needs --model (a PW model from `pocketvox train`)")
    model = load_pw_net(model_path)
    ad = ClimateAdapter()
    if str(data).lower().endswith(CONFIG_SUFFIXES):
        files = ClimateAdapter(**load_config_file(data).get("adapter_options", {})).val_files
        if not files:
            raise PocketvoxError(f"{data}: the config names no 'val' files to evaluate")
    else:
        files = [str(data)]
    train_files = []
    try:
        from pocketvox.volume.io import load_checkpoint

        train_files = load_checkpoint(model_path)["meta"].get("adapter_meta", {}).get("train", [])
    except Exception:  # noqa: BLE001 - a save_pw_net file has no training record: no baseline
        pass
    baseline = None
    if train_files and all(Path(p).is_file() for p in train_files):
        from sklearn.linear_model import LinearRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        feats, ys = [], []
        for p in train_files:
            _, x, dp, y = ad.load(p)
            feats.append(linear_baseline_features(x, dp))
            ys.append(y.ravel())
        baseline = make_pipeline(StandardScaler(), LinearRegression()).fit(np.concatenate(feats), np.concatenate(ys))
    out = {"domain": "climate", "model": str(model_path), "train_files": train_files, "files": {}}
    for p in files:
        f, x, dp, y = ad.load(p)
        if y is None:
            raise PocketvoxError(f"{p}: no 'pwat' (or 'q') to score against")
        if x.shape[:2] != (model.config["n_channels"], model.config["n_levels"]):
            raise PocketvoxError(f"{p}: {x.shape[1]} levels, the model expects {model.config['n_levels']}")
        model.periodic_x = f.periodic_x
        pw = tiled_predict(model, torch.from_numpy(x)[None], torch.from_numpy(dp)[None], (tile, tile))[0].numpy()
        row = {"columns": int(y.size), "model": _scores(pw, y)}
        if baseline is not None:
            row["linear_regression"] = _scores(baseline.predict(linear_baseline_features(x, dp)), y)
        out["files"][Path(p).name] = row
    return out


def evaluate_medical(config_path, model_path, tile: int = 96, threads: int = 0) -> dict:
    """Dice per class on the held-out part of a medical training config, by tiled inference of the
    whole scan(s): the validation hemisphere (split 'hemisphere') or the held-out scan
    ('leave_one_out'); with the learning-free baselines (multi-Otsu, k-means on intensity in the
    stats mask) on the same voxels."""
    import torch

    from pocketvox.adapters.medical import MedicalAdapter, dice_per_class, kmeans_segment, multi_otsu_segment
    from pocketvox.errors import PocketvoxError
    from pocketvox.volume.tiling import tiled_apply
    from pocketvox.volume.trainer import load_config_file

    if not str(config_path).lower().endswith(CONFIG_SUFFIXES):
        raise PocketvoxError(f"{config_path}: medical evaluation reads a training config (.toml/.yaml) "
                             "naming the scans, labels and split")
    if model_path is None:
        raise PocketvoxError("medical evaluation needs --model (a checkpoint from `pocketvox train`)")
    if threads:
        torch.set_num_threads(threads)
    from pocketvox.volume.io import load_checkpoint

    model, trained = load_segmenter(model_path)
    # The checkpoint fixes what was held out (split, holdout scan, midline margin) and how intensities
    # were normalised; the config only says where the scans are.
    opts = dict(load_config_file(config_path).get("adapter_options", {}))
    meta = load_checkpoint(model_path)["meta"].get("adapter_meta", {})
    opts.update({k: meta[k] for k in ("split", "holdout", "margin_mm") if k in meta})
    for k in ("spacing", "transforms", "mask_threshold", "class_names"):
        opts.pop(k, None)
    ad = MedicalAdapter(config=trained.config, **opts)
    k = len(ad.target_names)
    fg = list(range(1, k))
    out = {"domain": "medical", "model": str(model_path), "split": ad.split, "scans": {}}
    for sample, _, region in ad.split_regions():
        if not region.any():
            continue
        logits = tiled_apply(model, torch.from_numpy(sample.inputs)[None], tile=tile, out_device="cpu")
        pred = logits[0].argmax(0).numpy()
        names = dict(enumerate(ad.target_names))
        row = {"voxels": int(region.sum()),
               "model": {names[c]: round(v, 4) for c, v in dice_per_class(pred, sample.target, fg, region).items()}}
        mask = sample.mask if sample.mask is not None else np.ones(pred.shape, bool)
        for label, fn in (("multi_otsu", multi_otsu_segment), ("kmeans", kmeans_segment)):
            if k == 2:  # one foreground class (lesions): the brightest of three intensity classes
                base = (fn(sample.inputs[0], mask, classes=3) == 3).astype(np.uint8)
            else:
                base = fn(sample.inputs[0], mask, classes=k - 1)
            row[label] = {names[c]: round(v, 4) for c, v in dice_per_class(base, sample.target, fg, region).items()}
        out["scans"][sample.name] = row
    if not out["scans"]:
        raise PocketvoxError(f"{config_path}: the split leaves no held-out voxels to evaluate")
    return out


def evaluate_domain(domain: str, data, model_path, device: str = "cpu") -> dict:
    if domain == "climate":
        return evaluate_climate(data, model_path)
    return evaluate_medical(data, model_path)


def format_domain_table(res: dict) -> str:
    """Plain-text table of :func:`evaluate_domain` results."""
    lines = []
    if res["domain"] == "climate":
        lines.append(f"{'file':<34} {'who':>18} {'rmse':>8} {'corr':>7} {'bias':>8}  (kg m-2)")
        for name, row in res["files"].items():
            for who in ("model", "linear_regression"):
                if who in row:
                    s = row[who]
                    lines.append(f"{name:<34} {who:>18} {s['rmse']:8.3f} {s['corr']:7.4f} {s['bias']:8.3f}")
        return "\n".join(lines)
    for name, row in res["scans"].items():
        classes = list(row["model"])
        lines.append(f"{name} ({row['voxels']} held-out voxels, split {res['split']}): Dice")
        lines.append(f"{'':>12} " + " ".join(f"{c:>13}" for c in classes))
        for who in ("model", "multi_otsu", "kmeans"):
            lines.append(f"{who:>12} " + " ".join(f"{row[who][c]:13.4f}" for c in classes))
    return "\n".join(lines)
