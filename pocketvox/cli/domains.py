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
    ad.write_prediction(dst, pw, fields, q)
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
