"""Medical adapter: transforms, readers (NIfTI, DICOM), resampling, baselines, adapter items, CLI."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from pocketvox.adapters import transforms as T
from pocketvox.errors import InputFileError, PocketvoxError

nib = pytest.importorskip("nibabel")

from pocketvox.adapters.medical import (  # noqa: E402
    MedicalAdapter,
    MedicalImage,
    dice_per_class,
    hemisphere_masks,
    kmeans_segment,
    multi_otsu_segment,
    read_image,
    resample,
    write_nifti,
)


def _rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------ transforms
def test_zscore_within_mask():
    x = _rng().normal(50, 7, (12, 10, 8)).astype(np.float32)
    mask = np.zeros(x.shape, bool)
    mask[2:9, 2:8, 1:7] = True
    x[~mask] = 1000.0  # outside values must not move the statistics
    z = T.ZScore()(x, mask)
    assert abs(z[mask].mean()) < 1e-4 and abs(z[mask].std() - 1) < 1e-3
    assert np.all(z[~mask] == 0)


def test_percentile_and_ct_window():
    x = np.linspace(-1000, 1000, 2001, dtype=np.float32).reshape(1, 1, -1)
    p = T.PercentileMinMax(10, 90)(x)
    assert p.min() == 0 and p.max() == 1
    assert abs(p[0, 0, 1000] - 0.5) < 1e-3
    w = T.CTWindow.lung()(np.array([-1350.0, -600.0, 150.0, 3000.0]))
    np.testing.assert_allclose(w, [0.0, 0.5, 1.0, 1.0], atol=1e-6)
    with pytest.raises(PocketvoxError):
        T.CTWindow(0, 0)
    with pytest.raises(PocketvoxError):
        T.PercentileMinMax(90, 10)


def test_histogram_matching_maps_quantiles():
    rng = _rng()
    ref = rng.gamma(2.0, 30.0, 50_000)
    img = rng.normal(0, 1, (40, 40, 20)).astype(np.float32)
    out = T.HistogramMatch(ref)(img)
    q = [0.1, 0.5, 0.9]
    np.testing.assert_allclose(np.quantile(out, q), np.quantile(ref, q), rtol=0.03)
    # monotone: order of voxels is preserved
    order = np.argsort(img.ravel())
    assert np.all(np.diff(out.ravel()[order]) >= -1e-4)


def test_compose_from_config():
    x = _rng().uniform(0, 100, (8, 8, 8)).astype(np.float32)
    c = T.from_config([{"name": "percentile", "low": 0, "high": 100}, {"name": "zscore", "outside": None}])
    out = c(x)
    assert abs(out.mean()) < 1e-4
    with pytest.raises(PocketvoxError, match="unknown intensity transform"):
        T.from_config([{"name": "nope"}])
    with pytest.raises(PocketvoxError, match="reference"):
        T.from_config([{"name": "histmatch"}])


# ------------------------------------------------------------------ I/O
def test_nifti_roundtrip_and_bad_files(tmp_path):
    aff = np.array([[-0.8, 0, 0, 90], [0, 0.8, 0, -100], [0, 0, 3.0, -50], [0, 0, 0, 1]])
    data = _rng().integers(0, 500, (9, 7, 5)).astype(np.int16)
    p = tmp_path / "a.nii.gz"
    write_nifti(p, data, aff)
    img = read_image(p)
    np.testing.assert_array_equal(img.data, data)
    np.testing.assert_allclose(img.affine, aff)
    np.testing.assert_allclose(img.spacing, [0.8, 0.8, 3.0])
    (tmp_path / "empty.nii.gz").write_bytes(b"")
    (tmp_path / "text.nii.gz").write_text("hello")
    (tmp_path / "trunc.nii.gz").write_bytes(p.read_bytes()[:200])
    (tmp_path / "notgz.nii.gz").write_bytes(gzip.compress(b"not a nifti header" * 10))
    for name in ("empty", "text", "trunc", "notgz"):
        with pytest.raises(InputFileError, match=name):
            read_image(tmp_path / f"{name}.nii.gz")
    with pytest.raises(InputFileError, match="no such"):
        read_image(tmp_path / "missing.nii")
    with pytest.raises(InputFileError, match="not a NIfTI"):
        (tmp_path / "x.png").write_bytes(b"\x89PNG")
        read_image(tmp_path / "x.png")


def _write_dicom_series(folder, vol, spacing, origin_lps, slope=1.0, intercept=-1024.0):
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    series = generate_uid()
    nx, ny, nz = vol.shape
    order = [2, 0, 1]  # written out of order: the reader must sort by position
    for n, k in enumerate(order):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.SeriesInstanceUID = series
        ds.Modality = "CT"
        ds.Rows, ds.Columns = ny, nx
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [origin_lps[0], origin_lps[1], origin_lps[2] + k * spacing[2]]
        ds.SliceThickness = spacing[2]
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.ascontiguousarray(vol[:, :, k].T).astype(np.uint16).tobytes()
        ds.save_as(folder / f"slice{n}.dcm", enforce_file_format=True)
    return pydicom


def test_dicom_series(tmp_path):
    vol = _rng().integers(0, 2000, (6, 5, 3)).astype(np.uint16)
    _write_dicom_series(tmp_path, vol, (0.7, 0.9, 2.5), (-10.0, 20.0, 30.0))
    (tmp_path / "README.txt").write_text("unrelated file in the series folder")
    img = read_image(tmp_path)
    np.testing.assert_array_equal(img.data, vol.astype(np.int32) - 1024)
    np.testing.assert_allclose(img.spacing, [0.7, 0.9, 2.5])
    # LPS origin (-10, 20, 30) is RAS (10, -20, 30); LPS +x (left) is RAS -x.
    np.testing.assert_allclose(img.affine[:3, 3], [10, -20, 30])
    np.testing.assert_allclose(np.diag(img.affine)[:3], [-0.7, -0.9, 2.5])
    empty = tmp_path / "nodicom"
    empty.mkdir()
    (empty / "a.txt").write_text("x")
    with pytest.raises(InputFileError, match="no DICOM"):
        read_image(empty)


def test_resample_keeps_world_positions():
    aff = np.diag([0.5, 0.5, 2.0, 1.0])
    aff[:3, 3] = [10, -5, 3]
    i, j, k = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in (40, 30, 10)), indexing="ij")
    img = MedicalImage(3 * i + 2 * j - k, aff)  # linear in world position: trilinear is exact
    r = resample(img, 1.0)
    np.testing.assert_allclose(r.spacing, [1, 1, 1])
    assert r.shape == (20, 15, 19)
    ijk = np.array([7, 4, 11, 1.0])
    world = r.affine @ ijk
    src = np.linalg.solve(aff, world)[:3]
    np.testing.assert_allclose(r.data[7, 4, 11], 3 * src[0] + 2 * src[1] - src[2], atol=1e-3)
    labels = MedicalImage((i > 20).astype(np.uint8) * 3, aff)
    rl = resample(labels, 1.0, order=0)
    assert set(np.unique(rl.data)) == {0, 3}
    with pytest.raises(PocketvoxError):
        resample(img, 0)


# ------------------------------------------------------------------ baselines and metrics
def _phantom():
    """Three nested intensity shells in a sphere: CSF-like dark, GM mid, WM bright, plus noise."""
    g = np.stack(np.meshgrid(*(np.arange(40),) * 3, indexing="ij"), -1) - 19.5
    r = np.linalg.norm(g, axis=-1)
    lab = np.zeros(r.shape, np.uint8)
    lab[r < 18] = 1
    lab[r < 15] = 2
    lab[r < 9] = 3
    img = np.choose(lab, [0.0, 60.0, 120.0, 200.0]).astype(np.float32)
    img += _rng().normal(0, 8, img.shape).astype(np.float32) * (lab > 0)
    return img, lab


def test_baselines_recover_intensity_classes():
    img, lab = _phantom()
    for fn in (multi_otsu_segment, kmeans_segment):
        pred = fn(img, lab > 0, classes=3)
        d = dice_per_class(pred, lab, [1, 2, 3])
        assert min(d.values()) > 0.95, (fn.__name__, d)
    d = dice_per_class(np.zeros_like(lab), lab, [1, 4])
    assert d[1] == 0.0 and np.isnan(d[4])


# ------------------------------------------------------------------ adapter
def test_adapter_items_and_prediction_roundtrip(tmp_path):
    img, lab = _phantom()
    aff = np.diag([1.0, 1.0, 1.0, 1.0])
    aff[0, 3] = -19.5  # world x = 0 on the phantom's centre plane
    write_nifti(tmp_path / "img.nii.gz", img, aff)
    write_nifti(tmp_path / "lab.nii.gz", lab, aff)
    ad = MedicalAdapter(image=str(tmp_path / "img.nii.gz"), labels=str(tmp_path / "lab.nii.gz"),
                        margin_mm=3.0, patch=16, n_train=4, n_val=2)
    ds = ad.datasets(seed=1)
    item = ds["train"][0]
    assert item["inputs"].shape == (1, 16, 16, 16) and item["targets"].shape == (16, 16, 16)
    assert item["mask"].shape == (1, 16, 16, 16) and item["mask"].sum() > 0
    # the loss mask never covers the validation side
    lo = [int(v) for v in item["key"].split(":")[1].strip("()").split(",")]
    xs = np.arange(lo[0], lo[0] + 16) - 19.5
    m = item["mask"][0].numpy().any(axis=(1, 2))
    assert np.all(xs[m] < -3.0)
    # augmentation/patches are a function of (seed, epoch, index)
    ds["train"].set_epoch(3)
    a = ds["train"][1]["key"]
    ds["train"].set_epoch(3)
    assert ds["train"][1]["key"] == a
    sample = ad.load(tmp_path / "img.nii.gz", tmp_path / "lab.nii.gz")
    geo = ad.geometry(sample)
    onehot = np.eye(4, dtype=np.float32)[lab].transpose(3, 0, 1, 2)
    ad.write_prediction(onehot, geo, tmp_path / "pred.nii.gz")
    back = read_image(tmp_path / "pred.nii.gz")
    np.testing.assert_array_equal(back.data, lab)
    np.testing.assert_allclose(back.affine, aff)
    with pytest.raises(PocketvoxError, match="needs"):
        MedicalAdapter(split="hemisphere").datasets()


def test_hemisphere_masks_split_by_world_x():
    aff = np.eye(4)
    aff[0, 3] = -10.0
    right, left = hemisphere_masks(MedicalImage(np.zeros((21, 2, 2)), aff), margin_mm=2.0)
    assert right[:, 0, 0].tolist() == [True] * 8 + [False] * 13
    assert left[:, 0, 0].tolist() == [False] * 13 + [True] * 8


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def mni(volumes_dir):
    d = volumes_dir / "medical" / "mni152"
    return read_image(d / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"), read_image(d / "tissue_labels.nii.gz")


def test_mni_baseline_on_test_hemisphere(mni):
    t1, lab = mni
    assert t1.shape == (197, 233, 189)
    np.testing.assert_allclose(t1.affine[:3, 3], [-98, -134, -72])
    right, left = hemisphere_masks(t1, 10.0)
    assert right.sum() == left.sum()  # the grid is symmetric about x = 0
    pred = multi_otsu_segment(t1.data, t1.data > 0)
    d = dice_per_class(pred, lab.data, [1, 2, 3], left)
    # T1 contrast alone separates GM and WM well; CSF/other is the hard class.
    assert d[2] > 0.85 and d[3] > 0.9 and d[1] < d[2]


def test_lesion_files_read(volumes_dir):
    d = volumes_dir / "medical" / "lesions"
    img = read_image(d / "breast1_image.nii.gz")
    lab = read_image(d / "breast1_label.nii.gz")
    assert img.shape == lab.shape == (45, 120, 21)
    assert int(lab.data.sum()) == 143
    np.testing.assert_allclose(img.spacing, [0.664062, 0.664062, 2.1], atol=1e-5)
    assert img.data[lab.data > 0].mean() > img.data.mean()  # lesion brighter than the crop


# ------------------------------------------------------------------ CLI
def _cli(args) -> int:
    from pocketvox.cli.main import main

    try:
        main(args)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def test_cli_segment_baseline_and_model(tmp_path):
    torch = pytest.importorskip("torch")
    from pocketvox.volume.io import save_checkpoint
    from pocketvox.volume.unet import UNet3D, UNetConfig

    img, lab = _phantom()
    aff = np.diag([1.2, 1.2, 1.2, 1.0])
    write_nifti(tmp_path / "img.nii.gz", img, aff)
    assert _cli(["segment", str(tmp_path / "img.nii.gz"), "-o", str(tmp_path / "b.nii.gz"), "--baseline", "otsu"]) == 0
    out = read_image(tmp_path / "b.nii.gz")
    assert dice_per_class(out.data, lab, [3])[3] > 0.95
    np.testing.assert_allclose(out.affine, aff)

    cfg = UNetConfig(in_channels=1, out_channels=4, width=4, depth=2)
    torch.manual_seed(0)
    model = UNet3D(cfg).eval()
    ad = MedicalAdapter()
    save_checkpoint({"model": model.state_dict(), "meta": {"adapter": "medical", "model": cfg.to_dict(),
                                                           "adapter_meta": ad.metadata()}}, tmp_path / "m.pt")
    assert _cli(["segment", str(tmp_path / "img.nii.gz"), "-o", str(tmp_path / "m.nii.gz"),
                 "--model", str(tmp_path / "m.pt"), "--tile", "24"]) == 0
    seg = read_image(tmp_path / "m.nii.gz")
    x, _, _ = ad.prepare(MedicalImage(img, aff))
    with torch.no_grad():
        ref = model(torch.from_numpy(x)[None])[0].argmax(0).numpy()
    np.testing.assert_array_equal(seg.data, ref)  # tiled CLI output equals the untiled network

    (tmp_path / "bad.nii.gz").write_bytes(b"junk")
    assert _cli(["segment", str(tmp_path / "bad.nii.gz"), "-o", str(tmp_path / "x.nii.gz"), "--baseline", "otsu"]) == 2
    # batch: the bad scan is reported, the good one is still written, exit status 1
    assert _cli(["segment", str(tmp_path / "bad.nii.gz"), str(tmp_path / "img.nii.gz"), "-o",
                 str(tmp_path / "batch"), "--baseline", "kmeans"]) == 1
    assert (tmp_path / "batch" / "img_labels.nii.gz").exists()


def test_core_training_and_cli_evaluate_on_held_out_side(tmp_path):
    """`pocketvox train` (adapter = 'medical', hemisphere split) then `pocketvox evaluate CONFIG`: Dice of
    the tiled whole-volume prediction on the held-out side only, next to the intensity baselines."""
    import json

    torch = pytest.importorskip("torch")
    from pocketvox.cli.domains import load_segmenter
    from pocketvox.volume.tiling import tiled_apply

    img, lab = _phantom()
    aff = np.eye(4)
    aff[0, 3] = -19.5
    write_nifti(tmp_path / "img.nii.gz", img, aff)
    write_nifti(tmp_path / "lab.nii.gz", lab, aff)
    run = tmp_path / "run"
    (tmp_path / "cfg.toml").write_text(f"""
out_dir = "{run}"
epochs = 2
batch_size = 2
device = "cpu"
width = 4
depth = 2
lr = 0.01
[adapter]
name = "medical"
image = "{tmp_path / 'img.nii.gz'}"
labels = "{tmp_path / 'lab.nii.gz'}"
margin_mm = 3.0
patch = 16
n_train = 4
n_val = 2
""")
    assert _cli(["train", "--config", str(tmp_path / "cfg.toml"), "--quiet"]) == 0
    assert (run / "best.pt").exists()
    assert _cli(["evaluate", str(tmp_path / "cfg.toml"), "--model", str(run / "best.pt"), "--format", "json",
                 "-o", str(tmp_path / "ev.json")]) == 0
    ev = json.loads((tmp_path / "ev.json").read_text())
    row = ev["scans"]["img.nii.gz"]
    _, left = hemisphere_masks(MedicalImage(img, aff), 3.0)
    assert ev["split"] == "hemisphere" and row["voxels"] == int(left.sum())
    model, ad = load_segmenter(run / "best.pt")
    x, _, _ = ad.prepare(MedicalImage(img, aff))
    with torch.no_grad():
        pred = tiled_apply(model, torch.from_numpy(x)[None], tile=24)[0].argmax(0).numpy()
    ref = dice_per_class(pred, lab, [1, 2, 3], left)
    for c, name in ((1, "csf_other"), (2, "grey_matter"), (3, "white_matter")):
        assert row["model"][name] == pytest.approx(ref[c], abs=1e-4, nan_ok=True)
    assert row["kmeans"]["white_matter"] > 0.95  # the phantom's shells are intensity classes
    assert _cli(["evaluate", str(tmp_path / "img.nii.gz"), "--model", str(run / "best.pt")]) == 2
