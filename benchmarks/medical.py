"""Tissue segmentation on MNI152 (train right hemisphere, test left, 20 mm midline band left out)
and lesion baselines.

    python benchmarks/medical.py [--train] [--checkpoint runs/medical_tissue/best.pt] [--device cpu]
    # GPU (lead): python benchmarks/medical.py --train --device cuda --epochs 40 --max-minutes 8

``--train`` runs the core trainer on configs/medical_tissue.toml first (flags override it). Then:
Dice per class on the test hemisphere for the model (tiled inference of the whole volume) and for
the learning-free baselines (multi-Otsu, k-means within the brain mask), inference voxels/s, and
lesion Dice of an intensity baseline (brightest multi-Otsu class inside the body) per scan.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from pocketvox.adapters.medical import (
    MedicalAdapter,
    dice_per_class,
    hemisphere_masks,
    kmeans_segment,
    multi_otsu_segment,
    read_image,
)

ROOT = Path(__file__).resolve().parents[1]
MED = ROOT.parent / "shared" / "data" / "volumes" / "medical"
CLASSES = {1: "csf_other", 2: "grey_matter", 3: "white_matter"}


def named(d):
    return {CLASSES.get(k, k): round(v, 4) for k, v in d.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--config", default=str(ROOT / "configs" / "medical_tissue.toml"))
    ap.add_argument("--checkpoint", default="")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--max-minutes", type=float, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tile", type=int, default=96)
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    t1 = read_image(MED / "mni152" / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")
    lab = read_image(MED / "mni152" / "tissue_labels.nii.gz").data
    _, test = hemisphere_masks(t1, 10.0)
    out = {"test_voxels": int(test.sum())}
    brain = t1.data > 0
    out["baseline_multi_otsu"] = named(dice_per_class(multi_otsu_segment(t1.data, brain), lab, [1, 2, 3], test))
    out["baseline_kmeans"] = named(dice_per_class(kmeans_segment(t1.data, brain), lab, [1, 2, 3], test))

    ck_path = a.checkpoint
    if a.train:
        from pocketvox.volume.trainer import TrainConfig, load_config_file, train

        d = load_config_file(a.config)
        d["device"] = a.device
        if a.epochs:
            d["epochs"] = a.epochs
        if a.max_minutes:
            d["max_minutes"] = a.max_minutes
        d["adapter_options"] = {k: (str((ROOT / v).resolve()) if k in ("image", "labels") else v)
                                for k, v in d["adapter_options"].items()}
        t0 = time.time()
        res = train(TrainConfig.from_dict(d), progress=False)
        out["train_seconds"] = round(time.time() - t0, 1)
        out["train_epochs"] = res["epochs_run"]
        ck_path = str(Path(d["out_dir"]) / "best.pt")
    if ck_path:
        from pocketvox.cli.domains import load_segmenter
        from pocketvox.volume.tiling import tiled_apply

        model, ad = load_segmenter(ck_path)
        dev = torch.device(a.device)
        model.to(dev)
        x, _, _ = ad.prepare(t1)
        xt = torch.from_numpy(x)[None].to(dev)
        t0 = time.time()
        logits = tiled_apply(model, xt, tile=a.tile, out_device="cpu")
        dt = time.time() - t0
        pred = logits[0].argmax(0).numpy()
        out["model"] = named(dice_per_class(pred, lab, [1, 2, 3], test))
        out["model_background_dice"] = round(dice_per_class(pred, lab, [0], test)[0], 4)
        out["infer_voxels_per_s"] = round(pred.size / dt)
        out["checkpoint"] = ck_path

    # lesions: a learning-free baseline per scan (small data: one or two scans per modality)
    les = {}
    for case in ("brain1", "brain2", "breast1", "lung1"):
        if not (MED / "lesions" / f"{case}_image.nii.gz").is_file():  # e.g. a GPU machine with mni152 only
            les[case] = "absent"
            continue
        img = read_image(MED / "lesions" / f"{case}_image.nii.gz").data.astype(np.float32)
        gt = read_image(MED / "lesions" / f"{case}_label.nii.gz").data > 0
        body = img > (-400 if case == "lung1" else np.percentile(img, 5))
        seg = multi_otsu_segment(img, body, classes=3) == 3
        les[case] = round(dice_per_class(seg.astype(np.uint8), gt.astype(np.uint8), [1])[1], 4)
    out["lesion_baseline_dice_brightest_otsu_class"] = les
    out["adapter"] = MedicalAdapter().name
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
