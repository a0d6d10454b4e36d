"""Medical adapter: NIfTI / DICOM volumes ⇄ the volume core's ``(C, X, Y, Z)`` arrays.

Geometry follows nibabel: arrays are indexed ``(i, j, k)`` and ``affine`` (4×4) maps voxel indices to
RAS+ world millimetres; ``spacing`` is in mm, in (i, j, k) order. DICOM series (LPS patient frame) are
converted to the same RAS convention, so a DICOM and its NIfTI conversion give equal affines.

Needs the ``medical`` extra (nibabel, pydicom, scikit-image); they are imported inside functions so
``import pocketvox`` and the molecular install never pull them.

Also here:
- resampling to a target spacing (trilinear for images, nearest for label maps), affine kept exact;
- learning-free baselines: multi-Otsu and k-means on intensity within a mask;
- :class:`MedicalAdapter`, the adapter the volume core trains and predicts through.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvox.errors import InputFileError, PocketvoxError

NIFTI_SUFFIXES = (".nii", ".nii.gz")


@dataclass(frozen=True)
class MedicalImage:
    """A scalar volume with its geometry.

    data : (X, Y, Z) array in the file's dtype (or float32 after a transform)
    affine : (4, 4) float64, voxel index → RAS+ world mm
    path : where it was read from ('' for a derived image)
    """

    data: np.ndarray = field(repr=False)
    affine: np.ndarray = field(repr=False)
    path: str = ""

    @property
    def spacing(self) -> np.ndarray:
        """(3,) voxel size in mm along i, j, k (column norms of the affine)."""
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def read_image(path: str | os.PathLike) -> MedicalImage:
    """Read a NIfTI file (``.nii``/``.nii.gz``) or a DICOM series (a folder of slices, or one slice file).

    Raises :class:`InputFileError` naming the file for missing, empty, truncated or foreign files.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or directory")
    if path.is_dir():
        return _read_dicom_series(path)
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: file is empty")
    if _is_nifti(path):
        return _read_nifti(path)
    if path.suffix.lower() in (".dcm", ".ima", "") or _looks_dicom(path):
        return _read_dicom_series(path.parent, only=path if path.suffix.lower() != "" else None)
    raise InputFileError(f"{path}: not a NIfTI (.nii, .nii.gz) or DICOM file")


def _read_nifti(path: Path) -> MedicalImage:
    import nibabel as nib

    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)
    except Exception as e:  # nibabel raises many types (ImageFileError, EOFError, zlib/gzip errors)
        raise InputFileError(f"{path}: cannot read as NIfTI ({type(e).__name__}: {e})") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise InputFileError(f"{path}: expected a 3D volume, got shape {data.shape}")
    return MedicalImage(data, np.asarray(img.affine, dtype=np.float64), str(path))


def _looks_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(132)
        return head[128:132] == b"DICM"
    except OSError:
        return False


_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


def _read_dicom_series(folder: Path, only: Path | None = None) -> MedicalImage:
    """Stack the slices of one DICOM series, ordered along the slice normal.

    Uses ImagePositionPatient / ImageOrientationPatient / PixelSpacing and applies
    RescaleSlope/Intercept (so CT comes out in HU).
    """
    import pydicom

    files = [only] if only is not None else sorted(p for p in folder.iterdir() if p.is_file())
    slices = []
    for f in files:
        try:
            ds = pydicom.dcmread(str(f), force=only is not None)
        except Exception:  # not DICOM: skip unrelated files in the folder
            continue
        if "PixelData" in ds and "ImagePositionPatient" in ds:
            slices.append(ds)
    if not slices:
        raise InputFileError(f"{only or folder}: no DICOM image slices with position information found")
    uid = slices[0].get("SeriesInstanceUID")
    slices = [s for s in slices if s.get("SeriesInstanceUID") == uid]
    try:
        iop = np.asarray(slices[0].ImageOrientationPatient, dtype=np.float64)
        row, col = iop[:3], iop[3:]
        normal = np.cross(row, col)
        pos = np.array([np.asarray(s.ImagePositionPatient, dtype=np.float64) for s in slices])
        order = np.argsort(pos @ normal)
        slices = [slices[i] for i in order]
        pos = pos[order]
        dr, dc = (float(v) for v in slices[0].PixelSpacing)
        frames = [s.pixel_array.astype(np.float32) * float(s.get("RescaleSlope", 1.0))
                  + float(s.get("RescaleIntercept", 0.0)) for s in slices]
    except Exception as e:
        raise InputFileError(f"{only or folder}: incomplete DICOM series ({type(e).__name__}: {e})") from None
    if len({f.shape for f in frames}) != 1:
        raise InputFileError(f"{folder}: DICOM slices differ in size")
    # pixel_array is (rows, columns); voxel axis i runs along a row (columns index), j down the rows.
    vol = np.stack([f.T for f in frames], axis=-1)
    if len(slices) > 1:
        step = (pos[-1] - pos[0]) / (len(slices) - 1)
    else:
        step = normal * float(slices[0].get("SliceThickness", 1.0))
    lps = np.eye(4)
    lps[:3, 0] = row * dc
    lps[:3, 1] = col * dr
    lps[:3, 2] = step
    lps[:3, 3] = pos[0]
    affine = np.eye(4)
    affine[:3] = _LPS_TO_RAS @ lps[:3]
    if np.all(np.mod(vol, 1) == 0) and vol.min() >= -32768 and vol.max() <= 32767:
        vol = vol.astype(np.int16)
    return MedicalImage(vol, affine, str(only or folder))


def write_nifti(path: str | os.PathLike, data: np.ndarray, affine: np.ndarray, description: str = "") -> None:
    """Write a NIfTI-1 file atomically (gzip when the name ends in .gz), sform/qform = scanner."""
    import nibabel as nib

    from pocketvox.atomic import atomic_write_bytes

    path = Path(path)
    if not _is_nifti(path):
        raise PocketvoxError(f"{path}: output must end in .nii or .nii.gz")
    img = nib.Nifti1Image(np.asarray(data), np.asarray(affine, dtype=np.float64))
    img.set_sform(img.affine, code=1)
    img.set_qform(img.affine, code=1)
    if description:
        img.header["descrip"] = description[:79].encode()
    raw = img.to_bytes()
    atomic_write_bytes(path, gzip.compress(raw, compresslevel=6) if path.name.endswith(".gz") else raw)


def resample(image: MedicalImage, spacing, order: int = 1) -> MedicalImage:
    """Resample to a target voxel size (mm, scalar or (3,)), keeping the first voxel centre fixed.

    ``order``: 1 = trilinear (images), 0 = nearest (label maps). The new affine is the old one with its
    axes rescaled, so world positions stay exact; the extent is rounded to whole voxels.
    """
    from scipy import ndimage

    new = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (3,))
    if np.any(new <= 0):
        raise PocketvoxError(f"target spacing must be > 0 mm, got {tuple(new)}")
    old = image.spacing
    scale = new / old  # old-index step per new voxel
    shape = np.maximum(1, np.floor((np.asarray(image.shape) - 1) / scale + 1e-6).astype(int) + 1)
    if np.allclose(scale, 1.0):
        return image
    src = image.data if order == 0 else image.data.astype(np.float32)
    out = ndimage.affine_transform(src, scale, output_shape=tuple(shape), order=order, mode="nearest")
    affine = image.affine.copy()
    affine[:3, :3] = image.affine[:3, :3] * scale[None, :]
    return MedicalImage(out, affine, image.path)


# --------------------------------------------------------------------------- baselines (no learning)


def multi_otsu_segment(image: np.ndarray, mask: np.ndarray, classes: int = 3) -> np.ndarray:
    """Label map: 0 outside ``mask``, 1..classes inside by multi-Otsu thresholds on intensity.

    Thresholds are chosen on the mask's voxels only (Liao et al. 2001 multi-level Otsu, scikit-image).
    For a T1 brain, 1/2/3 come out as CSF / grey / white matter (T1 contrast order).
    """
    from skimage.filters import threshold_multiotsu

    mask = np.asarray(mask, bool)
    vals = np.asarray(image, dtype=np.float32)[mask]
    if vals.size == 0:
        raise PocketvoxError("multi-Otsu baseline: the mask is empty")
    thr = threshold_multiotsu(vals, classes=classes)
    out = np.zeros(image.shape, dtype=np.uint8)
    out[mask] = (np.digitize(vals, thr) + 1).astype(np.uint8)
    return out


def kmeans_segment(image: np.ndarray, mask: np.ndarray, classes: int = 3, seed: int = 0) -> np.ndarray:
    """Label map from 1D k-means on intensity within ``mask``; clusters are numbered by rising mean."""
    from sklearn.cluster import KMeans

    mask = np.asarray(mask, bool)
    vals = np.asarray(image, dtype=np.float32)[mask].reshape(-1, 1)
    if vals.shape[0] < classes:
        raise PocketvoxError("k-means baseline: fewer masked voxels than classes")
    rng = np.random.default_rng(seed)
    fit_on = vals[rng.choice(vals.shape[0], min(vals.shape[0], 200_000), replace=False)]
    km = KMeans(classes, n_init=4, random_state=seed).fit(fit_on)
    rank = np.argsort(np.argsort(km.cluster_centers_[:, 0]))
    out = np.zeros(image.shape, dtype=np.uint8)
    out[mask] = (rank[km.predict(vals)] + 1).astype(np.uint8)
    return out


def dice_per_class(pred: np.ndarray, target: np.ndarray, classes, region: np.ndarray | None = None) -> dict:
    """Dice 2|P∩T|/(|P|+|T|) for each class label, on ``region`` (bool) when given; NaN if both empty."""
    pred = np.asarray(pred)
    target = np.asarray(target)
    if region is not None:
        pred, target = pred[region], target[region]
    out = {}
    for c in classes:
        p, t = pred == c, target == c
        denom = int(p.sum()) + int(t.sum())
        out[int(c)] = float(2 * np.logical_and(p, t).sum() / denom) if denom else float("nan")
    return out


# --------------------------------------------------------------------------- geometry helpers


def hemisphere_masks(image: MedicalImage, margin_mm: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Bool masks of the voxels with world x < -margin (right hemisphere in RAS) and x > +margin (left).

    The world x of a voxel is read off the affine, so this works for any RAS orientation.
    """
    i = np.arange(image.shape[0], dtype=np.float64)
    a = image.affine
    # world x of index (i, j, k) = a00 i + a01 j + a02 k + a03; MNI-like affines have a01 = a02 = 0,
    # but the general form is kept.
    j = np.arange(image.shape[1], dtype=np.float64)
    k = np.arange(image.shape[2], dtype=np.float64)
    x = a[0, 0] * i[:, None, None] + a[0, 1] * j[None, :, None] + a[0, 2] * k[None, None, :] + a[0, 3]
    return x < -margin_mm, x > margin_mm


# --------------------------------------------------------------------------- adapter for the core


@dataclass(frozen=True)
class MedicalSample:
    """What the core consumes for one scan.

    inputs : (C, X, Y, Z) float32, normalised intensities
    target : (X, Y, Z) int64 class labels, or None at inference
    mask : (X, Y, Z) bool, voxels that count in the loss and metrics (None = all)
    affine : (4, 4) voxel → RAS mm;  name : sample id
    """

    inputs: np.ndarray = field(repr=False)
    target: np.ndarray | None = field(repr=False)
    mask: np.ndarray | None = field(repr=False)
    affine: np.ndarray = field(repr=False)
    name: str = ""


@dataclass(frozen=True)
class MedicalConfig:
    """How a scan becomes model input.

    spacing : target voxel size in mm (None keeps the file's)
    transforms : intensity transform entries for :func:`pocketvox.adapters.transforms.from_config`
    mask_threshold : voxels with raw intensity > this form the statistics mask (e.g. the brain of a
        skull-stripped MRI); None uses the whole image
    class_names : names of the label values 0..K-1
    """

    spacing: float | tuple | None = None
    transforms: tuple = ({"name": "zscore"},)
    mask_threshold: float | None = 0.0
    class_names: tuple = ("background", "csf_other", "grey_matter", "white_matter")

    @classmethod
    def from_dict(cls, d: dict) -> MedicalConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "transforms" in known:
            known["transforms"] = tuple(dict(t) for t in known["transforms"])
        if "class_names" in known:
            known["class_names"] = tuple(known["class_names"])
        if isinstance(known.get("spacing"), list):
            known["spacing"] = tuple(known["spacing"])
        return cls(**known)

    def to_dict(self) -> dict:
        return {"spacing": self.spacing, "transforms": [dict(t) for t in self.transforms],
                "mask_threshold": self.mask_threshold, "class_names": list(self.class_names)}


class _PatchDataset:
    """Random cubic patches from prepared volumes; items follow the core protocol.

    volumes : list of (inputs (C, X, Y, Z) float32, labels (X, Y, Z) int64, region (X, Y, Z) bool)
    Patch centres are drawn inside ``region`` (the training side); the mask keeps only region voxels in
    the loss, so nothing outside the region is ever learnt from. ``fixed`` patches (validation) are drawn
    once; training patches are a function of (seed, epoch, index) so resumed runs repeat exactly.
    """

    def __init__(self, volumes, n: int, size: int, seed: int, salt: int, fixed: bool, n_classes: int,
                 fg_fraction: float = 0.5):
        self.volumes, self.n, self.size, self.seed, self.salt = volumes, int(n), int(size), seed, salt
        self.fixed, self.k, self.fg_fraction, self.epoch = fixed, n_classes, fg_fraction, 0
        # Candidate centres: all region voxels, and the foreground ones (labels > 0) for oversampling
        # rare classes such as lesions.
        self.centres = [np.argwhere(r) for _, _, r in volumes]
        self.fg = [np.argwhere(r & (lab > 0)) for _, lab, r in volumes]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        import torch

        rng = np.random.default_rng([self.seed, self.salt, 0 if self.fixed else self.epoch, int(i)])
        v = int(rng.integers(len(self.volumes)))
        x, lab, region = self.volumes[v]
        pool = self.fg[v] if len(self.fg[v]) and rng.random() < self.fg_fraction else self.centres[v]
        c = pool[rng.integers(len(pool))]
        s = self.size
        shape = np.asarray(lab.shape)
        lo = np.clip(c - s // 2, 0, np.maximum(shape - s, 0))
        sl = tuple(slice(a, a + s) for a in lo)
        xi, li, ri = x[(slice(None), *sl)], lab[sl], region[sl]
        pad = [(0, s - n) for n in li.shape]
        if any(p[1] for p in pad):  # volumes thinner than the patch (thick-slice scans): pad
            xi = np.pad(xi, [(0, 0), *pad])
            li = np.pad(li, pad)
            ri = np.pad(ri, pad)
        return {"inputs": torch.from_numpy(np.ascontiguousarray(xi)),
                "targets": torch.from_numpy(np.ascontiguousarray(li, dtype=np.int64)),
                "mask": torch.from_numpy(ri[None].astype(np.float32)),
                "key": f"{v}:{tuple(int(a) for a in lo)}"}


class MedicalAdapter:
    """Turns NIfTI/DICOM scans into core samples and label predictions back into NIfTI.

    Options (the ``[adapter]`` table of a training config):

    split : 'hemisphere' — one scan (``image``, ``labels``), train on world x < -margin_mm, validate
        on x > +margin_mm (the midline band is used by neither); 'leave_one_out' — ``images`` and
        ``labels`` lists, the scan ``holdout`` (index) is validation, the others train
    image, labels / images, labels : paths (NIfTI or DICOM)
    margin_mm : half-width of the excluded band around the midline (mm)
    spacing, transforms, mask_threshold, class_names : see :class:`MedicalConfig`
    patch : patch edge (voxels); n_train, n_val : patches per epoch / fixed validation patches
    fg_fraction : share of training patches centred on a labelled (> 0) voxel
    """

    name = "medical"
    task = "multiclass"
    channel_names = ("intensity",)

    def __init__(self, config: MedicalConfig | dict | None = None, split: str = "hemisphere", image=None,
                 labels=None, images=None, holdout: int = 0, margin_mm: float = 10.0, patch: int = 48,
                 n_train: int = 64, n_val: int = 16, fg_fraction: float = 0.0, **options):
        if isinstance(config, dict):
            config = MedicalConfig.from_dict(config)
        if config is None:
            config = MedicalConfig.from_dict(options)
        self.config = config
        self.target_names = tuple(self.config.class_names)
        self.split, self.image, self.labels, self.images = split, image, labels, images
        self.holdout, self.margin_mm, self.patch = int(holdout), float(margin_mm), int(patch)
        self.n_train, self.n_val, self.fg_fraction = int(n_train), int(n_val), float(fg_fraction)

    # ---------------------------------------------------------------- single scans
    def prepare(self, image: MedicalImage) -> tuple[np.ndarray, np.ndarray | None, MedicalImage]:
        """Resample + normalise: returns (inputs (1, X, Y, Z) float32, stats mask or None, resampled image)."""
        from pocketvox.adapters.transforms import from_config

        if self.config.spacing is not None:
            image = resample(image, self.config.spacing, order=1)
        raw = np.asarray(image.data, dtype=np.float32)
        mask = raw > self.config.mask_threshold if self.config.mask_threshold is not None else None
        if mask is not None and not mask.any():
            mask = None
        x = from_config(self.config.transforms)(raw, mask)
        return x[None].astype(np.float32), mask, image

    def load(self, image_path, label_path=None) -> MedicalSample:
        img = read_image(image_path)
        x, mask, img_r = self.prepare(img)
        target = None
        if label_path is not None:
            lab = read_image(label_path)
            if lab.shape != img.shape:
                raise InputFileError(f"{label_path}: label shape {lab.shape} differs from image {img.shape}")
            if self.config.spacing is not None:
                lab = resample(lab, self.config.spacing, order=0)
            target = np.asarray(lab.data).astype(np.int64)
            if target.min() < 0 or target.max() >= len(self.target_names):
                raise InputFileError(f"{label_path}: labels outside 0..{len(self.target_names) - 1}")
        return MedicalSample(x, target, mask, img_r.affine, Path(image_path).name)

    def geometry(self, sample: MedicalSample):
        from pocketvox.volume.adapter import Geometry

        a = np.asarray(sample.affine)
        return Geometry(origin=tuple(a[:3, 3]), spacing=tuple(np.linalg.norm(a[:3, :3], axis=0)),
                        shape=tuple(sample.inputs.shape[1:]), affine=tuple(map(tuple, a)), unit="mm",
                        frame="RAS")

    # ---------------------------------------------------------------- core protocol
    def split_regions(self, seed: int = 0):
        """[(sample, train region, val region)] for the configured split (bool (X, Y, Z) regions)."""
        if self.split == "hemisphere":
            if self.image is None or self.labels is None:
                raise PocketvoxError("medical adapter: split 'hemisphere' needs 'image' and 'labels'")
            s = self.load(self.image, self.labels)
            img = MedicalImage(s.inputs[0], s.affine)
            right, left = hemisphere_masks(img, self.margin_mm)
            return [(s, right, left)]
        if self.split == "leave_one_out":
            if not self.images or not self.labels or len(self.images) != len(self.labels):
                raise PocketvoxError("medical adapter: split 'leave_one_out' needs equal 'images' and 'labels' lists")
            if not 0 <= self.holdout < len(self.images):
                raise PocketvoxError(f"medical adapter: holdout {self.holdout} out of range")
            out = []
            for i, (im, lb) in enumerate(zip(self.images, self.labels)):
                s = self.load(im, lb)
                full = np.ones(s.target.shape, bool)
                none = np.zeros_like(full)
                out.append((s, none, full) if i == self.holdout else (s, full, none))
            return out
        raise PocketvoxError(f"medical adapter: unknown split {self.split!r} (hemisphere, leave_one_out)")

    def datasets(self, seed: int = 0) -> dict:
        parts = self.split_regions(seed)
        k = len(self.target_names)
        train = [(s.inputs, s.target, tr) for s, tr, _ in parts if tr.any()]
        val = [(s.inputs, s.target, va) for s, _, va in parts if va.any()]
        return {"train": _PatchDataset(train, self.n_train, self.patch, seed, 0, False, k, self.fg_fraction),
                "val": _PatchDataset(val, self.n_val, self.patch, seed, 1, True, k, self.fg_fraction)}

    def metadata(self) -> dict:
        return {"adapter": self.name, "config": self.config.to_dict(), "split": self.split,
                "margin_mm": self.margin_mm, "holdout": self.holdout, "patch": self.patch}

    def write_prediction(self, pred, geometry, path, names=None) -> list:
        """Write a prediction as NIfTI with the geometry's affine: (K, X, Y, Z) scores → argmax labels;
        (X, Y, Z) labels as they are."""
        pred = np.asarray(pred)
        labels = pred.argmax(0) if pred.ndim == 4 else pred
        affine = np.asarray(geometry.affine if geometry.affine is not None else np.diag([*geometry.spacing, 1.0]))
        names = names or self.target_names
        write_nifti(path, labels.astype(np.uint8), affine,
                    description=",".join(f"{i} {n}" for i, n in enumerate(names)))
        return [Path(path)]
