"""``pocketvox explain``: why the network predicts an interaction where it does.

For one structure, one class (hbond, hydrophobic, pistacking, ...) and one region (a predicted
hotspot, or the whole box), a Grad-CAM-family map (:func:`pocketvox.volume.explain.grad_cam`) on a
decoder block of the U-Net gives a 3D attribution map on the prediction grid. The default is HiResCAM
(element-wise gradient × activation, Draelos & Carin 2020) on the penultimate decoder block: on the
PoseBusters test split it ranks the residues the profiler names far above chance, while classic
Grad-CAM (channel-mean weights) does not (benchmarks/results/explain_deploy.md); ``method='gradcam'``
gives the classic one. It is written as a CCP4 map aligned
with the structure (``attribution_<class>.ccp4``, same origin and spacing as the ``pred_*.ccp4`` maps),
sampled at every atom centre (trilinear) into ``atoms.csv``, and summed per residue into
``residues.csv``, ranked: the residues whose surroundings drive the prediction come first.

The map is in arbitrary units (Grad-CAM's ReLU of gradient-weighted feature maps); ``atoms.csv`` and
``residues.csv`` also carry values normalised by the map's maximum. Explaining needs gradients, so an
int8 model cannot be explained: use the float model it was exported from.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvox.errors import ModelError, PocketvoxError


class ExplainError(PocketvoxError):
    """An impossible explain request (unknown class, missing hotspot, quantised model)."""


# --------------------------------------------------------------------------------------- the model
@dataclass
class ExplainModel:
    """A float network plus what is needed to feed it: channel and class names, thresholds, grid.

    net : torch module ((1, C, X, Y, Z) → (1, K, X, Y, Z) logits); meta : checkpoint metadata
    size, resolution : default box edge and voxel edge (Å)
    """

    net: object
    meta: dict
    class_names: tuple[str, ...]
    thresholds: np.ndarray
    channel_names: tuple[str, ...]
    size: float
    resolution: float
    device: str = "cpu"
    thresholds_by_mode: dict = field(default_factory=dict)

    def thresholds_for(self, mode: str) -> np.ndarray:
        """(K,) decision thresholds of ``mode`` (per-mode ones when the model stores them)."""
        return self.thresholds_by_mode.get(mode, self.thresholds)

    @staticmethod
    def from_net(net, meta: dict | None = None, device: str = "cpu") -> ExplainModel:
        from pocketvox.grid.channels import channel_names
        from pocketvox.grid.labels import DEFAULT_LABEL_CLASSES
        from pocketvox.grid.spec import DEFAULT_RESOLUTION, DEFAULT_SIZE
        from pocketvox.volume.compress import is_quantized

        meta = dict(meta or {})
        if hasattr(net, "modules") and is_quantized(net):
            raise ExplainError("an int8 model has no gradients to explain; use the float model it was exported from")
        cfg = getattr(getattr(net, "net", net), "config", None)
        n_in = int(getattr(cfg, "in_channels", 0) or 0)
        n_out = int(getattr(cfg, "out_channels", 0) or 0)
        chans = tuple(meta.get("channel_names") or channel_names(True)[: n_in or None])
        classes = tuple(meta.get("target_names") or meta.get("class_names") or DEFAULT_LABEL_CLASSES[: n_out or None])
        th = np.asarray(meta.get("thresholds") or [0.5] * len(classes), np.float64)
        by_mode = {k: np.asarray(v, np.float64) for k, v in (meta.get("thresholds_by_mode") or {}).items()}
        grid = _grid_meta(meta)
        return ExplainModel(net, meta, classes, th, chans, float(grid.get("size", DEFAULT_SIZE)),
                            float(grid.get("resolution", DEFAULT_RESOLUTION)), str(device), by_mode)

    @staticmethod
    def load(model=None, predictor=None, device: str = "cpu") -> ExplainModel:
        """From a predictor (its network), a checkpoint path, or the shipped default model."""
        if predictor is not None:
            net = next((getattr(predictor, a) for a in ("model", "net", "network") if getattr(predictor, a, None)
                        is not None), None)
            if net is None:
                raise ModelError("the predictor exposes no network (.model) to explain")
            meta = getattr(predictor, "meta", None) or {}
            dev = str(getattr(predictor, "device", device))
            return ExplainModel.from_net(net, meta, dev)
        if model is None:
            try:
                from pocketvox.apps.inference import Predictor
            except ImportError:
                raise ModelError("no default model is installed yet; pass --model M.pt") from None
            return ExplainModel.load(predictor=Predictor.load(None, device=device))
        from pocketvox.volume.compress import load_model

        net, meta = load_model(model, device=device)
        return ExplainModel.from_net(net, meta, device)

    def class_index(self, cls: str) -> int:
        if cls not in self.class_names:
            raise ExplainError(f"class {cls!r} is not predicted by this model; "
                               f"it predicts {', '.join(self.class_names)}")
        return self.class_names.index(cls)

    def spec_for(self, cpx=None, center=None):
        """The default box: centred on the ligand (heavy atoms), or on ``center`` (3,) Å."""
        from pocketvox.grid.spec import GridSpec

        if center is not None:
            return GridSpec(tuple(np.asarray(center, np.float64)), self.size, self.resolution).snapped()
        if cpx is None:
            raise ExplainError("a box needs a ligand or a centre")
        lig = cpx.ligand
        heavy = np.asarray(lig.element).astype(str) != "H"
        return GridSpec.around_ligand(lig.coords[heavy] if heavy.any() else lig.coords, self.size, self.resolution)

    def features(self, protein, ligand, spec, mode: str):
        """(1, C, X, Y, Z) float tensor in the model's channel order. In pocket mode the ligand's
        channels (if the network has any) are zero: the network sees the protein alone."""
        import torch

        from pocketvox.grid.channels import type_atoms
        from pocketvox.grid.voxelize import voxelize_arrays

        use_lig = mode == "complex" and ligand is not None
        typed = type_atoms(protein, ligand if use_lig else None, include_ligand=use_lig)
        vg = voxelize_arrays(typed, spec)
        have = {n: i for i, n in enumerate(vg.channel_names)}
        x = np.zeros((len(self.channel_names), *spec.shape), np.float32)
        for i, n in enumerate(self.channel_names):
            if n in have:
                x[i] = vg.features[have[n]]
        return torch.from_numpy(x)[None].to(self.device)

    def logits(self, x):
        import torch

        with torch.no_grad():
            return self.net(x)


def _grid_meta(meta: dict) -> dict:
    for d in (meta.get("grid"), (meta.get("adapter_meta") or {}).get("grid"),
              ((meta.get("adapter_meta") or {}).get("options") or {})):
        if isinstance(d, dict) and ("size" in d or "resolution" in d):
            return d
    return {}


# --------------------------------------------------------------------------------------- regions
def hotspot_regions(prob: np.ndarray, threshold: float, params=None,
                    mask: np.ndarray | None = None) -> list[np.ndarray]:
    """The voxel sets of one class's hotspots, (X, Y, Z) bool each, in the order (rank) that
    :func:`pocketvox.apps.hotspots.find_hotspots` gives them: components of ``prob ≥ threshold``
    (26-connected) with at least ``min_voxels``, by descending probability mass."""
    from scipy import ndimage

    from pocketvox.apps.hotspots import HotspotParams

    params = params or HotspotParams()
    hot = prob >= float(threshold)
    if mask is not None:
        hot &= mask
    lab, n = ndimage.label(hot, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return []
    idx = np.arange(1, n + 1)
    sizes = ndimage.sum_labels(hot, lab, idx)
    mean = ndimage.mean(prob, lab, idx)
    keep = np.flatnonzero(sizes >= params.min_voxels)
    keep = keep[np.argsort(-(sizes[keep] * mean[keep]))][: params.max_per_class]
    return [lab == (c + 1) for c in keep]


# ---------------------------------------------------------------------------------------- tables
def atom_attribution(att: np.ndarray, spec, atoms, molecule: str = "protein"):
    """One row per atom: identity, position (Å) and the map sampled at its centre (trilinear)."""
    import pandas as pd

    from pocketvox.volume.explain import sample_at

    vals = sample_at(att, spec.to_index(atoms.coords)) if len(atoms) else np.zeros(0, np.float32)
    mx = float(att.max()) if att.size else 0.0
    return pd.DataFrame({
        "molecule": molecule,
        "chain": atoms.chain.astype(str),
        "resnum": atoms.res_num.astype(np.int64),
        "icode": atoms.icode.astype(str),
        "resname": atoms.res_name.astype(str),
        "atom": atoms.name.astype(str),
        "element": atoms.element.astype(str),
        "x": atoms.coords[:, 0].round(3),
        "y": atoms.coords[:, 1].round(3),
        "z": atoms.coords[:, 2].round(3),
        "attribution": vals.astype(np.float64),
        "attribution_norm": (vals / mx if mx > 0 else vals).astype(np.float64),
        "residue": atoms.residue_keys().astype(str),
    })


def residue_attribution(atoms_df):
    """Per residue: summed and maximal atom attribution, atoms counted; ranked by the sum (rank 1 =
    largest). Residues with zero attribution keep their rows (rank ties broken by order)."""
    if len(atoms_df) == 0:
        import pandas as pd

        return pd.DataFrame(columns=["rank", "residue", "chain", "resnum", "icode", "resname", "n_atoms",
                                     "attribution_sum", "attribution_max", "attribution_share"])
    g = atoms_df.groupby("residue", sort=False)
    df = g.agg(chain=("chain", "first"), resnum=("resnum", "first"), icode=("icode", "first"),
               resname=("resname", "first"), n_atoms=("atom", "size"),
               attribution_sum=("attribution", "sum"), attribution_max=("attribution", "max")).reset_index()
    tot = float(df["attribution_sum"].sum())
    df["attribution_share"] = df["attribution_sum"] / tot if tot > 0 else 0.0
    df = df.sort_values("attribution_sum", ascending=False, kind="stable").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


# ---------------------------------------------------------------------------------------- result
@dataclass
class ExplainResult:
    """attribution (X, Y, Z) float32 on ``spec``; ``probs`` (X, Y, Z) the class's predicted
    probability; ``region`` (X, Y, Z) bool (the explained voxels); atoms / residues DataFrames."""

    cls: str
    mode: str
    method: str
    region_name: str
    attribution: np.ndarray
    probs: np.ndarray
    region: np.ndarray
    spec: object
    atoms: object
    residues: object
    inputs: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        top = ", ".join(self.residues["residue"].head(5)) if len(self.residues) else "-"
        return (f"ExplainResult({self.cls}, {self.mode} mode, region={self.region_name}, "
                f"{int(self.region.sum())} voxels; top residues: {top})")

    def top_residues(self, n: int = 5) -> list[str]:
        return [str(r) for r in self.residues["residue"].head(n)]

    def summary(self) -> dict:
        s = self.spec
        return {
            "class": self.cls, "mode": self.mode, "method": self.method, "region": self.region_name,
            "region_voxels": int(self.region.sum()),
            "grid": {"origin": [round(float(v), 3) for v in s.origin], "resolution": s.resolution,
                     "shape": list(s.shape), "axis_order": "xyz", "units": "angstrom"},
            "attribution_max": float(self.attribution.max()) if self.attribution.size else 0.0,
            "top_residues": [{"residue": r, "attribution_sum": round(float(v), 6), "share": round(float(sh), 4)}
                             for r, v, sh in zip(self.residues["residue"].head(10),
                                                 self.residues["attribution_sum"].head(10),
                                                 self.residues["attribution_share"].head(10))],
            "inputs": self.inputs, "files": self.files,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def write(self, outdir) -> dict:
        """attribution_<class>.ccp4, atoms.csv, residues.csv, explain.json in ``outdir``."""
        from pocketvox.cli.common import atomic_write_text
        from pocketvox.grid.ccp4 import write_ccp4

        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        name = f"attribution_{self.cls}.ccp4"
        write_ccp4(out / name, self.attribution, self.spec.origin, self.spec.spacing)
        atomic_write_text(out / "atoms.csv", self.atoms.to_csv(index=False, float_format="%.6g"))
        atomic_write_text(out / "residues.csv", self.residues.to_csv(index=False, float_format="%.6g"))
        self.files = {"map": name, "atoms": "atoms.csv", "residues": "residues.csv", "summary": "explain.json"}
        atomic_write_text(out / "explain.json", json.dumps(self.summary(), indent=1) + "\n")
        return self.files


# ------------------------------------------------------------------------------------- workflows
def explain_grid(model: ExplainModel, protein, ligand, spec, cls: str, mode: str = "complex",
                 hotspot: int | None = None, region: np.ndarray | None = None, method: str = "hirescam",
                 x=None) -> ExplainResult:
    """Explain one class on a given grid. ``hotspot`` (1-based rank among the class's predicted
    hotspots) or an explicit ``region`` (X, Y, Z) bool picks the voxels; default: the whole box."""
    import torch

    from pocketvox.volume.explain import grad_cam

    if mode not in ("complex", "pocket"):
        raise ExplainError(f"mode {mode!r}: expected 'complex' or 'pocket'")
    k = model.class_index(cls)
    t0 = time.perf_counter()
    if x is None:
        x = model.features(protein, ligand, spec, mode)
    probs = torch.sigmoid(model.logits(x)[0, k]).float().cpu().numpy()
    t1 = time.perf_counter()
    region_name = "box"
    if region is not None:
        region = np.asarray(region, bool)
        region_name = "region"
    elif hotspot is not None:
        th = model.thresholds_for(mode)[k]
        regions = hotspot_regions(probs, th)
        if not 1 <= int(hotspot) <= len(regions):
            raise ExplainError(f"--hotspot {hotspot}: the model predicts {len(regions)} {cls} hotspot(s) here "
                               f"(threshold {th:.3f})")
        region = regions[int(hotspot) - 1]
        region_name = f"hotspot {int(hotspot)}"
    else:
        region = np.ones(spec.shape, bool)
    att = grad_cam(model.net, x, k, region=region, method=method)
    t2 = time.perf_counter()
    atoms = atom_attribution(att, spec, protein)
    res = residue_attribution(atoms)
    if ligand is not None:
        import pandas as pd

        atoms = pd.concat([atoms, atom_attribution(att, spec, ligand, "ligand")], ignore_index=True)
    t3 = time.perf_counter()
    return ExplainResult(cls, mode, method, region_name, att, probs, region, spec, atoms, res,
                         timings={"predict": t1 - t0, "attribution": t2 - t1, "tables": t3 - t2})


def explain(structure, ligand: str | None = None, ligand_file=None, smiles: str | None = None, cls: str = "hbond",
            mode: str = "complex", hotspot: int | None = None, center=None, model=None, device: str = "cpu",
            predictor=None, method: str = "hirescam") -> ExplainResult:
    """Explain the prediction of class ``cls`` for one structure (see the module docstring).

    Inputs as for :func:`pocketvox.apps.predict.predict`: a whole entry (ligand found), a receptor
    plus ``ligand_file``, or a receptor with ``center`` (pocket mode only). Call ``.write(outdir)``.
    """
    from pocketvox.apps.predict import load_inputs, parse_center

    t0 = time.perf_counter()
    center = parse_center(center) if isinstance(center, str) else center
    cpx, protein = load_inputs(structure, ligand, ligand_file, center, smiles)
    if mode == "complex" and cpx is None:
        raise ExplainError(f"{structure}: complex mode needs a ligand (--ligand or --ligand-file)")
    m = ExplainModel.load(model, predictor, device)
    t1 = time.perf_counter()
    spec = m.spec_for(cpx, center)
    res = explain_grid(m, protein, None if cpx is None else cpx.ligand, spec, cls, mode, hotspot, method=method)
    res.inputs = {"structure": str(structure), "ligand": ligand,
                  "ligand_file": None if ligand_file is None else str(ligand_file),
                  "center": None if center is None else [float(v) for v in center],
                  "model": None if model is None else str(model)}
    res.timings = {"load": t1 - t0, **res.timings}
    return res


def explain_hotspots(result, predictor=None, top: int = 5, method: str = "hirescam", model=None) -> list[dict]:
    """Each hotspot of a :class:`~pocketvox.apps.predict.PredictResult` with its top residues.

    For every hotspot (in ``result.hotspots`` order) Grad-CAM of its class over its own voxels gives
    the ``top`` residues by summed attribution. Returns ``[{"class", "rank", "top_residues":
    [{"residue", "attribution_sum", "share"}, ...]}, ...]``, one entry per hotspot, for
    ``summary.json``. ``predictor`` is the one that made the prediction (its ``.model`` network),
    or give ``model`` (a checkpoint path). Whole-protein scans are explained in a default-size box
    around each hotspot's centre.
    """
    m = ExplainModel.load(model, predictor, getattr(predictor, "device", "cpu") if predictor is not None else "cpu")
    protein = result.protein
    ligand = result.complex.ligand if result.complex is not None else None
    scan = bool((result.inputs or {}).get("scan"))
    out = []
    x_full = None
    regions: dict[str, list[np.ndarray]] = {}
    for h in result.hotspots:
        k_res = list(result.class_names).index(h.cls)
        if scan:
            spec = m.spec_for(center=np.asarray(h.center))
            x = m.features(protein, ligand, spec, result.mode)
            import torch

            prob = torch.sigmoid(m.logits(x)[0, m.class_index(h.cls)]).cpu().numpy()
            d = np.linalg.norm(spec.to_coords(np.argwhere(np.ones(spec.shape, bool))).reshape(*spec.shape, 3)
                               - np.asarray(h.center), axis=-1)
            region = (prob >= m.thresholds_for(result.mode)[m.class_index(h.cls)]) & (d <= 3.0)
            if not region.any():
                region = d <= 3.0
        else:
            spec = result.spec
            if x_full is None:
                x_full = m.features(protein, ligand, spec, result.mode)
            x = x_full
            if h.cls not in regions:
                regions[h.cls] = hotspot_regions(result.probs[k_res], result.thresholds[k_res])
            regs = regions[h.cls]
            region = regs[h.rank - 1] if h.rank - 1 < len(regs) else None
            if region is None:
                out.append({"class": h.cls, "rank": h.rank, "top_residues": []})
                continue
        r = explain_grid(m, protein, None, spec, h.cls, result.mode, region=region, method=method, x=x)
        df = r.residues.head(top)
        tops = [{"residue": str(a), "attribution_sum": round(float(b), 6), "share": round(float(c), 4)}
                for a, b, c in zip(df["residue"], df["attribution_sum"], df["attribution_share"])]
        out.append({"class": h.cls, "rank": h.rank, "top_residues": tops})
    return out
