"""Inference API: load a trained model and predict per-voxel interaction probabilities.

>>> from pocketvox.apps.inference import Predictor
>>> pred = Predictor.load()                       # the default model shipped in pocketvox/models/
>>> out = pred.predict(complex_, mode="complex")  # or a protein AtomTable + center=(x, y, z), mode="pocket"
>>> out.probs.shape, out.class_names, out.thresholds
((3, 24, 24, 24), ('hbond', 'hydrophobic', 'pistacking'), array([...]))

``predict_grids`` runs many feature grids in batches; ``predict_volume`` runs one large grid tile by tile
(halos cover the receptive field, so it equals the untiled result) in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pocketvox.errors import LigandError, ModelError, PocketvoxError

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
DEFAULT_MODEL = MODELS_DIR / "default.pt"


@dataclass(frozen=True)
class Prediction:
    """probs (K, X, Y, Z) float32 in [0, 1]; ``spec`` the GridSpec (Å); ``class_names`` (K,);
    ``thresholds`` (K,) probability above which a voxel is called positive (chosen on validation)."""

    probs: np.ndarray
    spec: object
    class_names: tuple[str, ...]
    thresholds: np.ndarray
    mode: str = "pocket"

    def __repr__(self) -> str:
        s = self.spec
        pos = ", ".join(f"{c}={int((self.probs[k] >= self.thresholds[k]).sum())}"
                        for k, c in enumerate(self.class_names))
        return f"Prediction({self.mode} mode, {s.shape[0]}³ grid at {s.resolution} Å, voxels above threshold: {pos})"

    def masks(self) -> np.ndarray:
        """(K, X, Y, Z) bool: voxels at or above each class's threshold."""
        return self.probs >= self.thresholds.reshape(-1, 1, 1, 1)

    def write_ccp4(self, outdir) -> list[Path]:
        """``pred_<class>.ccp4`` per class in ``outdir`` (aligned with the structure, Å)."""
        from pocketvox.grid import write_ccp4

        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        paths = []
        for k, c in enumerate(self.class_names):
            p = outdir / f"pred_{c}.ccp4"
            write_ccp4(p, self.probs[k].astype(np.float32), self.spec.origin, self.spec.resolution)
            paths.append(p)
        return paths


def resolve_model_path(model: str | Path | None) -> Path:
    """None or 'default' → the shipped model; a directory → its best.pt; else the path itself."""
    if model is None or str(model) == "default":
        if not DEFAULT_MODEL.is_file():
            raise ModelError(f"{DEFAULT_MODEL}: the default model is not installed; train one with "
                             "`pocketvox train --config configs/default.toml` and pass --model")
        return DEFAULT_MODEL
    p = Path(model)
    if p.is_dir():
        p = p / "best.pt"
    return p


class Predictor:
    """A trained U-Net plus what it needs to grid inputs like its training data."""

    def __init__(self, net, meta: dict, device: str = "cpu", name: str = "model"):
        self.net = net
        self.meta = meta
        self.device = device
        self.name = name
        opts = meta.get("adapter_meta", {}).get("options", {})
        self.size = float(opts.get("size", 24.0))
        self.resolution = float(opts.get("resolution", 1.0))
        self.class_names = tuple(meta["target_names"])
        self.channel_names = tuple(meta["channel_names"])

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, model: str | Path | None = None, device: str = "cpu") -> Predictor:
        """Load a checkpoint (``None``: the shipped default) onto ``device`` ('cpu', 'cuda', 'cuda:1')."""
        import torch

        from pocketvox.volume.compress import _quiet, is_quantized, model_from_checkpoint
        from pocketvox.volume.io import load_checkpoint

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise PocketvoxError(f"--device {device}: CUDA is not available on this machine")
        path = resolve_model_path(model)
        ck = load_checkpoint(path, map_location="cpu")
        meta = ck["meta"]
        if meta.get("adapter") != "molecular" or "model" not in meta:
            raise ModelError(f"{path}: not a molecular interaction model (adapter {meta.get('adapter')!r})")
        # exported models (pocketvox export) may be pruned (other widths) or int8: rebuild from the
        # checkpoint's own record of how it was made
        try:
            with _quiet():
                net = model_from_checkpoint(ck)
        except ModelError as e:
            raise ModelError(f"{path}: {e}") from None
        if is_quantized(net):
            if device != "cpu":
                raise PocketvoxError(f"--device {device}: {path} is an int8 model, which runs on CPU only "
                                     "(use --device cpu, or the float model it was exported from)")
        else:
            net.to(device)
        return cls(net.eval(), meta, device=device, name=str(path))

    def info(self) -> dict:
        """JSON-able model description (for summaries)."""
        m = self.meta
        return {"path": self.name, "classes": list(self.class_names), "grid": {"size": self.size,
                "resolution": self.resolution}, "model": m.get("model"), "epoch": m.get("epoch"),
                "thresholds": {md: self.thresholds(md).tolist() for md in ("complex", "pocket")},
                "versions": m.get("versions"), "created": m.get("created")}

    def thresholds(self, mode: str) -> np.ndarray:
        """(K,) decision thresholds for ``mode`` (chosen on the validation split)."""
        by_mode = self.meta.get("thresholds_by_mode", {})
        th = by_mode.get(mode, self.meta.get("thresholds", [0.5] * len(self.class_names)))
        return np.asarray(th, np.float64)

    @property
    def receptive_radius(self) -> int:
        return self.net.receptive_radius

    # ------------------------------------------------------------------ gridding
    def spec_for(self, target, center=None):
        from pocketvox.grid import GridSpec

        if center is not None:
            return GridSpec.from_points(np.asarray(center, np.float64).reshape(1, 3), size=self.size,
                                        resolution=self.resolution)
        lig = getattr(target, "ligand", None)
        if lig is None or len(lig) == 0:
            raise LigandError("no ligand to place the grid: give a centre (x, y, z in Å)")
        return GridSpec.around_ligand(lig.coords[lig.heavy], size=self.size, resolution=self.resolution)

    def features(self, target, spec, mode: str) -> np.ndarray:
        """(16, n, n, n) float32 input grid; pocket mode leaves the ligand channels empty."""
        from pocketvox.grid import grid_density, type_atoms

        protein = getattr(target, "protein", target)
        ligand = getattr(target, "ligand", None)
        if mode == "complex" and ligand is None:
            raise LigandError("complex mode needs a ligand")
        if mode not in ("complex", "pocket"):
            raise PocketvoxError(f"mode {mode!r}: expected 'pocket' or 'complex'")
        typed = type_atoms(protein, ligand if mode == "complex" else None, include_ligand=True)
        return grid_density(typed.coords, typed.radii, typed.types, spec)

    # ------------------------------------------------------------------ prediction
    #: Complex-mode prior: every label lies on the ligand (within 1.5 Å of a ligand atom or ring
    #: centre), so voxels where the ligand-occupancy density is below this are set to 0. Density of an
    #: isolated carbon (radius 1.7 Å) at 1.5 Å is exp(-2·1.5²/1.7²) ≈ 0.21; a ring centre's label
    #: sphere sees ≥ 0.3 from its six atoms. 0.1 keeps every label voxel with margin. None disables.
    ligand_prior_min: float | None = 0.1

    def _prior(self, xb):
        import torch

        if self.ligand_prior_min is None or "ligand_occupancy" not in self.channel_names:
            return None
        occ = xb[:, self.channel_names.index("ligand_occupancy")]
        has_lig = occ.flatten(1).amax(1) > 0  # pocket-mode samples have empty ligand channels
        keep = (occ >= self.ligand_prior_min) | ~has_lig.view(-1, 1, 1, 1)
        return keep.unsqueeze(1).to(torch.float32)

    def predict_grids(self, features, batch_size: int = 8) -> np.ndarray:
        """(B, C, X, Y, Z) features (numpy or torch) → (B, K, X, Y, Z) float32 probabilities.

        Samples with a ligand (complex mode) get the ligand prior (:attr:`ligand_prior_min`)."""
        import torch

        x = torch.as_tensor(np.asarray(features, np.float32) if not hasattr(features, "detach") else features)
        out = []
        with torch.no_grad():
            for i in range(0, x.shape[0], batch_size):
                xb = x[i:i + batch_size].to(self.device, dtype=torch.float32)
                p = torch.sigmoid(self.net(xb)).float()
                keep = self._prior(xb)
                if keep is not None:
                    p = p * keep
                out.append(p.cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.class_names)) + tuple(x.shape[2:]), np.float32)

    def predict_volume(self, features, tile: int = 48) -> np.ndarray:
        """One large (C, X, Y, Z) grid, tile by tile with halos (equal to untiled) → (K, X, Y, Z)."""
        import torch

        from pocketvox.volume.tiling import tiled_apply

        x = torch.as_tensor(np.asarray(features, np.float32))[None]
        dev = self.device

        def fn(t):
            return torch.sigmoid(self.net(t.to(dev))).float()

        fn.receptive_radius = self.net.receptive_radius
        fn.multiple = self.net.multiple
        probs = tiled_apply(fn, x, tile=tile, out_device="cpu")
        keep = self._prior(x)
        if keep is not None:
            probs = probs * keep
        return probs[0].numpy()

    def predict(self, target, center=None, mode: str = "pocket") -> Prediction:
        """Probabilities for one Complex (or protein AtomTable + ``center`` Å) in ``mode``."""
        spec = self.spec_for(target, center)
        feats = self.features(target, spec, mode)
        probs = self.predict_grids(feats[None])[0]
        return Prediction(probs, spec, self.class_names, self.thresholds(mode), mode)

    def predict_many(self, targets, centers=None, mode: str = "pocket", batch_size: int = 8) -> list[Prediction]:
        """Batched :meth:`predict` over many targets (centres optional, one per target)."""
        centers = centers if centers is not None else [None] * len(targets)
        specs = [self.spec_for(t, c) for t, c in zip(targets, centers)]
        feats = np.stack([self.features(t, s, mode) for t, s in zip(targets, specs)]) if targets else None
        if feats is None:
            return []
        probs = self.predict_grids(feats, batch_size=batch_size)
        th = self.thresholds(mode)
        return [Prediction(p, s, self.class_names, th, mode) for p, s in zip(probs, specs)]
