"""``pocketvox screen --rescore cnn``: score each pose with the complex-mode network run on that pose.

The default screen looks poses up in maps the network predicted once for the *empty* pocket (pocket
mode). With ``--rescore cnn`` the network instead sees the receptor *and the pose* (complex mode,
exactly as it was trained on crystal complexes) and predicts where the interactions of that very
pose form. Each class-``k`` term is then the sum of the network's class-``k`` probability at the
pose's own class-``k`` interaction points (donors/acceptors for hbond, hydrophobic atoms for
hydrophobic, aromatic ring centres for pistacking; :data:`~pocketvox.apps.screen_score.CLASS_FEATURES`),
trilinearly interpolated: the expected number of interactions the network believes this pose makes.
Clash and size normalisation are those of the map score (:mod:`pocketvox.apps.screen_score`).

Cost: one network pass per pose. The receptor's channels are gridded once on a fixed box (the
model's training box, or ``box`` Å, around the pocket centre); per pose only the ligand channels are
gridded (numba) and the poses go through the network in batches (``batch_size``, CPU or CUDA; an int8
export runs on CPU). The pose's ligand channels come from the screen's own typing (SMARTS donors,
acceptors, hydrophobic atoms, charged groups; ring members as aromatic), which follows the profiler's
typing of training ligands closely but not atom for atom.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pocketvox.apps.screen_read import ACCEPTOR, DONOR, HYDROPHOBIC, NEGATIVE, POSITIVE, PoseBatch
from pocketvox.apps.screen_score import class_mask, trilinear

#: ligand channel kinds (order of pocketvox.grid.channels.ATOM_KINDS) -> screen feature bits;
#: aromatic comes from ring membership, metal is never set for organic poses, occupancy always
_KIND_BITS = {"hydrophobic": HYDROPHOBIC, "hbond_donor": DONOR, "hbond_acceptor": ACCEPTOR,
              "positive": POSITIVE, "negative": NEGATIVE}


@dataclass
class CnnRescorer:
    """Everything a worker needs to rescore poses with the network (picklable; the network itself is
    loaded lazily in each process).

    model : checkpoint path or None (the shipped default); device : 'cpu' or 'cuda[:N]'
    protein : (C, n, n, n) float32 input grid with the receptor channels filled, ligand channels 0
    origin : (3,) Å centre of voxel [0, 0, 0]; resolution : Å; class_names : the network's classes
    """

    model: str | None
    device: str
    protein: np.ndarray
    origin: np.ndarray
    resolution: float
    channel_names: tuple
    class_names: tuple
    batch_size: int = 8
    _pred: object = field(default=None, repr=False, compare=False)

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_pred"] = None
        return d

    @property
    def predictor(self):
        if self._pred is None:
            from pocketvox.apps.inference import Predictor

            self._pred = Predictor.load(self.model, device=self.device)
        return self._pred

    @property
    def n(self) -> int:
        return int(self.protein.shape[-1])

    def ligand_channels(self, batch: PoseBatch, p: int, out: np.ndarray) -> np.ndarray:
        """(C, n, n, n): the receptor grid plus pose ``p``'s ligand channels (written into ``out``)."""
        from pocketvox.grid.kernels import grid_density

        sel = batch.hv_pose == p
        bits = batch.hv_bits[sel]
        names = self.channel_names
        types = np.zeros((int(sel.sum()), len(names)), bool)
        for i, c in enumerate(names):
            if not c.startswith("ligand_"):
                continue
            kind = c[len("ligand_"):]
            if kind in _KIND_BITS:
                types[:, i] = (bits & _KIND_BITS[kind]) != 0
            elif kind == "aromatic":
                types[:, i] = batch.hv_ring[sel]
            elif kind == "occupancy":
                types[:, i] = True
        grid_density(batch.hv_xyz[sel], batch.hv_rad[sel], types, _Spec(self.origin, self.resolution, self.n),
                     out=out)
        out += self.protein
        return out

    def terms(self, batch: PoseBatch, ok: np.ndarray) -> np.ndarray:
        """(P, K) class terms of the chunk's poses (0 for poses not ``ok``)."""
        P, K = len(batch.index), len(self.class_names)
        terms = np.zeros((P, K))
        rows = np.flatnonzero(ok)
        if not len(rows):
            return terms
        masks = np.array([class_mask(c) for c in self.class_names], np.uint8)
        # the chunk's points grouped by pose once (stable), so each pose's slice is contiguous
        order = np.argsort(batch.pt_pose, kind="stable")
        pt_pose = batch.pt_pose[order]
        lo = np.searchsorted(pt_pose, rows, "left")
        hi = np.searchsorted(pt_pose, rows, "right")
        C = self.protein.shape[0]
        bs = max(1, int(self.batch_size))
        buf = np.zeros((bs, C, self.n, self.n, self.n), np.float32)
        for s in range(0, len(rows), bs):
            part = rows[s:s + bs]
            for j, p in enumerate(part):
                self.ligand_channels(batch, int(p), buf[j])
            probs = self.predictor.predict_grids(buf[:len(part)], batch_size=bs)
            for j, p in enumerate(part):
                idx = order[lo[s + j]:hi[s + j]]
                hit = (batch.pt_bits[idx, None] & masks[None, :]) != 0
                pt, cls = np.nonzero(hit)
                vals = trilinear(probs[j], self.origin, self.resolution, cls, batch.pt_xyz[idx[pt]])
                terms[p] = np.bincount(cls, weights=vals, minlength=K)
        return terms


@dataclass(frozen=True)
class _Spec:
    """The part of a GridSpec that grid_density reads."""

    origin: np.ndarray
    resolution: float
    n: int


def cnn_rescorer(receptor, pocket=None, ligand=None, center=None, model=None, device: str = "cpu",
                 box: float | None = None, batch_size: int = 8) -> CnnRescorer:
    """Grid the receptor once for :class:`CnnRescorer`: box ``box`` Å (default: the model's training
    box) around the pocket, placed like :func:`pocketvox.apps.screen.pocket_maps` places it."""
    from pocketvox.apps.inference import Predictor
    from pocketvox.apps.screen import ScreenError
    from pocketvox.grid import grid_density, type_atoms
    from pocketvox.grid.spec import GridSpec
    from pocketvox.structure.io import load_complex, read_structure, receptor_table

    if sum(x is not None for x in (pocket, ligand, center)) != 1:
        raise ScreenError("--rescore cnn places its box with exactly one of --pocket, --ligand or --center")
    if center is not None:
        protein = receptor_table(read_structure(receptor))
        c = np.asarray(center, np.float64).reshape(3)
    else:
        cx = load_complex(receptor, ligand=ligand, ligand_file=pocket)
        protein = cx.protein
        lig = cx.ligand.coords[cx.ligand.heavy]
        c = 0.5 * (lig.min(0) + lig.max(0))
    pred = Predictor.load(model, device=device)
    spec = GridSpec(tuple(c), float(box or pred.size), pred.resolution).snapped()
    typed = type_atoms(protein, None, include_ligand=True)
    feats = grid_density(typed.coords, typed.radii, typed.types, spec)
    return CnnRescorer(None if model is None else str(model), device, feats.astype(np.float32),
                       np.asarray(spec.origin, np.float64), float(spec.resolution), tuple(pred.channel_names),
                       tuple(pred.class_names), batch_size, _pred=pred)
