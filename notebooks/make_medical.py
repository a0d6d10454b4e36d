"""Writes medical.ipynb (outputs cleared). Rerun after editing the cells below."""

import nbformat as nbf

cells = [
    nbf.v4.new_markdown_cell(
        "# Tissue segmentation of a brain MRI with pocketvox\n\n"
        "Load the MNI152 T1 template and its 4-class tissue map (background, CSF/other, grey matter, white "
        "matter), normalise intensities, segment the held-out hemisphere with a learning-free baseline and "
        "with a small 3D U-Net trained here for a minute on the other hemisphere (2 mm voxels), and look at "
        "slices.\n\nThe full recipe (1 mm, longer training) is `pocketvox train --config "
        "configs/medical_tissue.toml`; its measured Dice is in `benchmarks/results/domains.md`."
    ),
    nbf.v4.new_code_cell(
        "import os\nimport tempfile\nfrom pathlib import Path\n\nimport matplotlib.pyplot as plt\nimport numpy as np\n"
        "import torch\n\n"
        "from pocketvox.adapters import transforms as T\n"
        "from pocketvox.adapters.medical import (\n"
        "    MedicalAdapter,\n    dice_per_class,\n    hemisphere_masks,\n    kmeans_segment,\n    read_image,\n"
        "    resample,\n)\n\n"
        "torch.set_num_threads(2)\n"
        "shared = Path(os.environ.get('POCKETVOX_SHARED', Path.cwd().resolve().parents[1] / 'shared'))\n"
        "mni = shared / 'data' / 'volumes' / 'medical' / 'mni152'\n"
        "T1, LAB = mni / 'mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz', mni / 'tissue_labels.nii.gz'\n"
        "t1, lab = read_image(T1), read_image(LAB)\n"
        "print(t1.shape, 'spacing (mm)', t1.spacing, '\\naffine\\n', t1.affine)"
    ),
    nbf.v4.new_markdown_cell(
        "## 1. Intensity normalisation\nComposable transforms; the mask restricts the statistics "
        "(here the skull-stripped brain, T1 > 0)."
    ),
    nbf.v4.new_code_cell(
        "brain = t1.data > 0\n"
        "z = T.ZScore()(t1.data, brain)\n"
        "p = T.PercentileMinMax(0.5, 99.5)(t1.data, brain)\n"
        "print(f'z-score in brain: mean {z[brain].mean():.3f}, std {z[brain].std():.3f}')\n"
        "print(f'percentile min-max in brain: {p[brain].min():.2f}..{p[brain].max():.2f}')\n"
        "names = {1: 'CSF/other', 2: 'grey matter', 3: 'white matter'}\n"
        "for c, n in names.items():\n"
        "    print(f'{n:>13}: mean z {z[lab.data == c].mean():+.2f}')"
    ),
    nbf.v4.new_markdown_cell(
        "## 2. Train on one hemisphere, test on the other (2 mm voxels)\n"
        "World x < -10 mm trains, x > +10 mm tests; the 20 mm midline band is used by neither. "
        "The adapter resamples (trilinear image, nearest labels) and normalises."
    ),
    nbf.v4.new_code_cell(
        "from pocketvox.volume.trainer import TrainConfig, train\n\n"
        "adapter = MedicalAdapter(image=str(T1), labels=str(LAB), spacing=2.0, margin_mm=10.0,\n"
        "                         patch=32, n_train=24, n_val=4)\n"
        "run = Path(tempfile.mkdtemp()) / 'tissue'\n"
        "cfg = TrainConfig(adapter='medical', out_dir=str(run), epochs=6, batch_size=2, lr=0.01,\n"
        "                  width=8, depth=2, loss='dice_ce', device='cpu', threads=2, max_minutes=0.8)\n"
        "res = train(cfg, adapter=adapter, progress=False)\n"
        "print('epochs run', res['epochs_run'], '| validation patches mean Dice', res['best'].get('mean_dice'))"
    ),
    nbf.v4.new_markdown_cell(
        "## 3. Predict the test hemisphere (tiled) and compare with k-means on intensity"
    ),
    nbf.v4.new_code_cell(
        "from pocketvox.cli.domains import load_segmenter\nfrom pocketvox.volume.tiling import tiled_apply\n\n"
        "model, ad = load_segmenter(run / 'best.pt')\n"
        "sample = adapter.load(T1, LAB)\n"
        "pred = tiled_apply(model, torch.from_numpy(sample.inputs)[None], tile=48)[0].argmax(0).numpy()\n"
        "img2 = resample(t1, 2.0)\n"
        "_, test = hemisphere_masks(img2, 10.0)\n"
        "km = kmeans_segment(img2.data, img2.data > 0)\n"
        "d_model = dice_per_class(pred, sample.target, [1, 2, 3], test)\n"
        "d_km = dice_per_class(km, sample.target, [1, 2, 3], test)\n"
        "for c, n in names.items():\n"
        "    print(f'{n:>13}: U-Net {d_model[c]:.3f}   k-means {d_km[c]:.3f}')"
    ),
    nbf.v4.new_markdown_cell(
        "A one-minute CPU fit at 2 mm stays below the intensity baseline. The same recipe at 1 mm, trained "
        "for 2.5 minutes on a GPU, reaches grey / white matter Dice 0.923 / 0.964 on this hemisphere against "
        "k-means 0.912 / 0.948 (`benchmarks/results/domains.md`)."
    ),
    nbf.v4.new_markdown_cell("## 4. Slices\nAn axial slice (the test hemisphere is world x > +10 mm)."),
    nbf.v4.new_code_cell(
        "k = sample.target.shape[2] // 2 + 5\n"
        "fig, ax = plt.subplots(1, 4, figsize=(14, 4))\n"
        "for a, (title, im, cmap) in zip(ax, [('T1 (z-score)', sample.inputs[0], 'gray'),\n"
        "                                    ('labels', sample.target, 'viridis'),\n"
        "                                    ('k-means', km, 'viridis'), ('U-Net', pred, 'viridis')]):\n"
        "    a.imshow(np.rot90(im[:, :, k]), cmap=cmap)\n"
        "    a.set_title(title)\n"
        "    a.axis('off')\n"
        "plt.tight_layout()"
    ),
    nbf.v4.new_markdown_cell("## 5. Back to NIfTI\n"
                             "Labels with the (resampled) input's affine, as `pocketvox segment` writes them."),
    nbf.v4.new_code_cell(
        "out = Path(tempfile.mkdtemp()) / 'labels.nii.gz'\n"
        "adapter.write_prediction(pred, adapter.geometry(sample), out)\n"
        "back = read_image(out)\n"
        "print(out.name, back.shape, 'affine equal:', np.allclose(back.affine, sample.affine))"
    ),
]
nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
nbf.write(nb, "medical.ipynb")
