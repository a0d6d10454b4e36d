"""``pocketvox predict``: from a structure to interaction hotspots, maps and viewer scripts.

The workflow composes the layers: read (structure) → profile the present ligand (interactions) →
grid and predict (grid + model through :class:`pocketvox.apps.inference.Predictor`) → cluster into
hotspots → write files (CCP4 maps, PyMOL/ChimeraX scripts, PNG, ``summary.json``).

Three kinds of input:

* a whole PDB/mmCIF entry with a HETATM ligand (found automatically, or ``ligand='RES:CHAIN:NUM'``);
* a receptor plus a ligand file (``ligand_file``);
* a receptor alone with a box ``center`` (x, y, z Å) — no interactions, pocket mode only.

In pocket mode the ligand only places the box and tells which hotspots it satisfies; the network
sees protein channels alone. In complex mode it also sees the ligand channels.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvox.errors import InputFileError, LigandError, PocketvoxError


@dataclass
class PredictResult:
    """Everything ``predict`` computed; ``summary()`` is what ``summary.json`` holds.

    probs : (K, X, Y, Z) float32 on ``spec``; class_names (K,); thresholds (K,)
    hotspots : list of :class:`~pocketvox.apps.hotspots.Hotspot`
    interactions : InteractionSet of the present ligand, or None
    """

    inputs: dict
    mode: str
    probs: np.ndarray
    spec: object
    class_names: tuple[str, ...]
    thresholds: np.ndarray
    hotspots: list
    complex: object = None
    protein: object = None
    interactions: object = None
    model_info: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    #: per hotspot (same order), from :func:`pocketvox.apps.explain.explain_hotspots` when asked
    explanations: list | None = None

    def __repr__(self) -> str:
        per = ", ".join(f"{c}={sum(h.cls == c for h in self.hotspots)}" for c in self.class_names)
        return f"PredictResult(mode={self.mode}, grid={self.spec}, hotspots: {per})"

    # ------------------------------------------------------------------ tables
    def hotspots_df(self):
        from pocketvox.apps.hotspots import hotspots_dataframe

        return hotspots_dataframe(self.hotspots)

    def interactions_df(self):
        return None if self.interactions is None else self.interactions.to_dataframe()

    def summary(self) -> dict:
        from pocketvox import __version__

        s = self.spec
        missed = [h.to_dict() for h in self.hotspots if h.satisfied is False]
        out = {
            "pocketvox_version": __version__,
            "inputs": self.inputs,
            "mode": self.mode,
            "model": self.model_info,
            "grid": {
                "center": [round(float(x), 3) for x in s.center_array],
                "size": s.size,
                "resolution": s.resolution,
                "shape": list(s.shape),
                "origin": [round(float(x), 3) for x in s.origin],
                "axis_order": "xyz",
                "units": "angstrom",
            },
            "classes": list(self.class_names),
            "thresholds": {c: round(float(t), 4) for c, t in zip(self.class_names, self.thresholds)},
            "hotspots": self._hotspot_dicts(),
            "missed_hotspots": missed,
            "interactions": None if self.interactions is None else self.interactions.to_records(),
            "files": self.files,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "versions": _versions(),
        }
        if self.complex is not None:
            out["ligand"] = {"id": self.complex.ligand_id, "smiles": self.complex.ligand_smiles,
                             "n_heavy_atoms": len(self.complex.ligand), "notes": list(self.complex.notes)}
        return out

    def _hotspot_dicts(self) -> list[dict]:
        out = [h.to_dict() for h in self.hotspots]
        if self.explanations is not None:
            for d, e in zip(out, self.explanations):
                d["top_residues"] = e["top_residues"]
        return out

    # ------------------------------------------------------------------ files
    def write(self, outdir, maps: bool = True, figure: bool = True) -> dict:
        """Write summary.json, pred_<class>.ccp4, ligand/hotspot PDBs, view.pml, view.cxc, PNG."""
        from pocketvox.apps import viewers
        from pocketvox.atomic import atomic_write_text
        from pocketvox.grid.ccp4 import write_ccp4

        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        map_files = {}
        if maps:
            for k, name in enumerate(self.class_names):
                p = out / f"pred_{name}.ccp4"
                write_ccp4(p, self.probs[k], self.spec.origin, self.spec.spacing)
                map_files[name] = p.name
            files["maps"] = dict(map_files)
        lig_file = None
        if self.complex is not None:
            lig_file = "ligand.pdb"
            atomic_write_text(out / lig_file, viewers.atoms_pdb_block(self.complex.ligand))
            files["ligand"] = lig_file
        hs_file = None
        if self.hotspots:
            hs_file = "hotspots.pdb"
            atomic_write_text(out / hs_file, viewers.hotspots_pdb_block(self.hotspots))
            files["hotspots"] = hs_file
        structure = str(Path(self.inputs["structure"]).resolve())
        levels = {c: float(t) for c, t in zip(self.class_names, self.thresholds)}
        viewers.write_pml(out / "view.pml", structure, lig_file, map_files, levels, hs_file)
        viewers.write_cxc(out / "view.cxc", structure, lig_file, map_files, levels, hs_file)
        files["pymol"] = "view.pml"
        files["chimerax"] = "view.cxc"
        if figure:
            viewers.write_figure(out / "prediction.png", self.probs, self.spec, self.class_names,
                                 None if self.complex is None else self.complex.ligand, self.hotspots)
            files["figure"] = "prediction.png"
        files["summary"] = "summary.json"
        self.files = files
        atomic_write_text(out / "summary.json", json.dumps(self.summary(), indent=1) + "\n")
        return files


def _versions() -> dict:
    import importlib.metadata as md

    v = {"python": platform.python_version()}
    for pkg in ("numpy", "gemmi", "rdkit", "torch"):
        try:
            v[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return v


def parse_center(text: str | None) -> np.ndarray | None:
    """'x,y,z' (Å) -> (3,) array; None passes through."""
    if text is None:
        return None
    try:
        c = np.array([float(v) for v in str(text).replace(" ", "").split(",")], np.float64)
    except ValueError:
        raise PocketvoxError(f"--center {text!r}: expected three numbers x,y,z in Å") from None
    if c.shape != (3,) or not np.isfinite(c).all():
        raise PocketvoxError(f"--center {text!r}: expected three numbers x,y,z in Å")
    return c


def load_inputs(structure, ligand=None, ligand_file=None, center=None, smiles=None):
    """(complex or None, protein AtomTable, notes). With only a centre, no ligand is looked for."""
    from pocketvox.structure.io import load_complex, load_receptor

    if ligand_file is not None or ligand is not None:
        c = load_complex(structure, ligand=ligand, ligand_file=ligand_file, smiles=smiles)
        return c, c.protein
    if center is not None:
        return None, load_receptor(structure)
    try:
        c = load_complex(structure, smiles=smiles)
    except LigandError as e:
        raise LigandError(f"{e} — or give --center x,y,z to predict on the receptor alone") from None
    return c, c.protein


def predict(
    structure,
    ligand: str | None = None,
    ligand_file=None,
    center=None,
    mode: str = "pocket",
    model=None,
    device: str = "cpu",
    smiles: str | None = None,
    scan: bool = False,
    predictor=None,
    hotspot_params=None,
    explain: bool = False,
    explain_top: int = 5,
) -> PredictResult:
    """Predict interaction maps and hotspots for one structure (see the module docstring).

    ``explain``: also attribute each hotspot to residues (HiResCAM over the hotspot's voxels, see
    :func:`pocketvox.apps.explain.explain_hotspots`); its ``explain_top`` residues go into each
    hotspot's ``top_residues`` in ``summary.json``. Needs a float model (int8 has no gradients).

    Returns a :class:`PredictResult`; call ``.write(outdir)`` for the files.
    """
    from pocketvox.apps.hotspots import find_hotspots

    if mode not in ("pocket", "complex"):
        raise PocketvoxError(f"--mode {mode!r}: expected 'pocket' or 'complex'")
    t0 = time.perf_counter()
    center = parse_center(center) if isinstance(center, str) else center
    cpx, protein = load_inputs(structure, ligand, ligand_file, center, smiles)
    if mode == "complex" and cpx is None:
        raise LigandError(f"{structure}: complex mode needs a ligand (--ligand or --ligand-file)")
    t1 = time.perf_counter()
    inter = None
    if cpx is not None:
        from pocketvox.interactions import profile

        inter = profile(cpx)
    t2 = time.perf_counter()
    if predictor is None:
        from pocketvox.apps.inference import Predictor

        predictor = Predictor.load(model, device=device)
    t3 = time.perf_counter()
    if scan:
        from pocketvox.apps.scan import scan_protein

        pred = scan_protein(predictor, protein)
    else:
        target = cpx if cpx is not None else protein
        pred = predictor.predict(target, center=center, mode=mode)
    t4 = time.perf_counter()
    mask = None
    if scan:
        from pocketvox.apps.scan import surface_mask

        mask = surface_mask(protein, pred.spec)
    hotspots = find_hotspots(pred.probs, pred.spec, pred.class_names, pred.thresholds, protein, inter,
                             hotspot_params, mask=mask)
    t5 = time.perf_counter()
    explanations = None
    if explain:
        from pocketvox.apps.explain import explain_hotspots

        partial = PredictResult(inputs={"scan": bool(scan)}, mode=mode, probs=pred.probs, spec=pred.spec,
                                class_names=tuple(pred.class_names), thresholds=np.asarray(pred.thresholds),
                                hotspots=hotspots, complex=cpx, protein=protein)
        explanations = explain_hotspots(partial, predictor=predictor, top=explain_top)
    t6 = time.perf_counter()
    inputs = {"structure": str(structure), "ligand": ligand, "ligand_file": None if ligand_file is None
              else str(ligand_file), "center": None if center is None else [float(x) for x in center],
              "scan": bool(scan)}
    return PredictResult(
        inputs=inputs,
        mode=mode,
        probs=pred.probs,
        spec=pred.spec,
        class_names=tuple(pred.class_names),
        thresholds=np.asarray(pred.thresholds, np.float64),
        hotspots=hotspots,
        complex=cpx,
        protein=protein,
        interactions=inter,
        model_info=predictor.info() if hasattr(predictor, "info") else {},
        timings={"read": t1 - t0, "profile": t2 - t1, "load_model": t3 - t2, "predict": t4 - t3,
                 "hotspots": t5 - t4, **({"explain": t6 - t5} if explain else {})},
        explanations=explanations,
    )


def format_table(result: PredictResult, max_rows: int = 12) -> str:
    """Readable summary for the terminal."""
    lines = []
    s = result.spec
    lig = f", ligand {result.complex.ligand_id}" if result.complex is not None else ""
    lines.append(f"{result.inputs['structure']}{lig} — {result.mode} mode, {s.shape[0]}³ grid at {s.resolution} Å")
    if result.interactions is not None:
        counts = ", ".join(f"{t} {int((result.interactions.type == t).sum())}"
                           for t in dict.fromkeys(result.interactions.type.tolist()))
        lines.append(f"interactions (profiler): {counts or 'none'}")
    lines.append("")
    hdr = f"{'class':<12} {'#':>2} {'prob':>5} {'vol Å³':>7} {'centre (Å)':>26}  {'ligand':<8} residues"
    lines.append(hdr)
    lines.append("-" * len(hdr))
    shown = sorted(result.hotspots, key=lambda h: -h.probability)[:max_rows]
    for h in shown:
        sat = {True: "met", False: "MISSED", None: "-"}[h.satisfied] + ("?" if h.tentative else "")
        c = "({:7.2f},{:7.2f},{:7.2f})".format(*h.center)
        res = " ".join(r.split(":", 1)[1] for r in h.residues[:5]) + (" …" if len(h.residues) > 5 else "")
        lines.append(f"{h.cls:<12} {h.rank:>2} {h.probability:5.3f} {h.volume:7.1f} {c:>26}  {sat:<8} {res}")
    if len(result.hotspots) > len(shown):
        lines.append(f"… {len(result.hotspots) - len(shown)} more in summary.json")
    if any(h.tentative for h in result.hotspots):
        lines.append("? tentative: below the class's calibrated threshold (the strongest sites the model sees)")
    if not result.hotspots:
        lines.append("(no hotspot)")
    return "\n".join(lines)


def check_outdir(outdir) -> Path:
    p = Path(outdir)
    if p.exists() and not p.is_dir():
        raise InputFileError(f"{p}: exists and is not a directory")
    return p
