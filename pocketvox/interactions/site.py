"""The binding site: the ligand, the protein atoms near it, candidate pairs and small geometry helpers
shared by the detectors. Built once per complex by :func:`pocketvox.interactions.profile.profile`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pocketvox.interactions.config import ProfilerConfig
from pocketvox.interactions.result import InteractionSet
from pocketvox.structure.atoms import AtomTable


def unit(v: np.ndarray) -> np.ndarray:
    """Row-wise unit vectors of (..., 3); zero rows stay zero."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v, dtype=np.float64), where=n > 0)


def angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise angle between vectors (..., 3), degrees in [0, 180]."""
    c = (unit(u) * unit(v)).sum(-1)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def plane_offset(center: np.ndarray, normal: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Å: distance between ``center`` and the projection of ``point`` onto the plane through
    ``center`` with unit ``normal`` (rows)."""
    d = point - center
    return np.linalg.norm(d - (d * normal).sum(-1, keepdims=True) * normal, axis=-1)


def csr_neighbors(t: AtomTable) -> tuple[np.ndarray, np.ndarray]:
    if len(t.bonds) == 0:
        return np.zeros(len(t) + 1, np.int64), np.zeros(0, np.int64)
    return t.adjacency_csr()


def padded_neighbors(t: AtomTable, idx: np.ndarray, width: int = 4) -> np.ndarray:
    """(len(idx), width) int64: bonded heavy neighbours of rows ``idx`` padded with -1."""
    indptr, nb = csr_neighbors(t)
    idx = np.asarray(idx, np.int64)
    start, count = indptr[idx], indptr[idx + 1] - indptr[idx]
    out = np.full((len(idx), width), -1, np.int64)
    for k in range(width):  # width is tiny (<= 4): a loop over neighbour slots, not atoms
        has = count > k
        out[has, k] = nb[start[has] + k]
    if out.size:
        heavy = t.element[np.where(out >= 0, out, 0)] != "H"
        out = np.where((out >= 0) & heavy, out, -1)
        out = np.take_along_axis(out, np.argsort(out < 0, axis=1, kind="stable"), 1)
    return out


@dataclass
class Site:
    """Ligand ``lig``, binding-site protein atoms ``prot`` (a re-indexed subset of the receptor;
    ``prot_index`` maps its rows back to the full receptor table) and candidate pairs within
    ``cfg.search_radius``: ligand rows ``pl``, protein rows ``pp``, distances ``pd`` (Å)."""

    lig: AtomTable
    prot: AtomTable
    prot_index: np.ndarray
    pl: np.ndarray
    pp: np.ndarray
    pd: np.ndarray
    cfg: ProfilerConfig

    def rows(self, kind: str, prot_rows: np.ndarray, *, subtype=None, distance, ligand_point, protein_point,
             angle=None, offset=None, protein_is_donor=None, ligand_atoms=(), protein_atoms=()) -> InteractionSet:
        """An :class:`InteractionSet` of K rows of one type; ``prot_rows`` (K,) are binding-site rows
        naming each row's residue; ``protein_atoms`` are binding-site rows (mapped to receptor rows)."""
        k = len(prot_rows)
        p = self.prot
        pr = np.asarray(prot_rows, np.int64)
        nan = np.full(k, np.nan)
        return InteractionSet(
            type=np.full(k, kind, "<U12"),
            subtype=np.asarray(subtype if subtype is not None else np.full(k, ""), "<U16"),
            distance=np.asarray(distance, np.float64),
            angle=np.asarray(angle if angle is not None else nan, np.float64),
            offset=np.asarray(offset if offset is not None else nan, np.float64),
            ligand_point=np.asarray(ligand_point, np.float64).reshape(k, 3),
            protein_point=np.asarray(protein_point, np.float64).reshape(k, 3),
            protein_is_donor=np.asarray(protein_is_donor if protein_is_donor is not None else np.zeros(k, bool)),
            res_chain=p.chain[pr].astype("<U4"), res_num=p.res_num[pr].astype(np.int32),
            res_icode=p.icode[pr].astype("<U1"), res_name=p.res_name[pr].astype("<U5"),
            ligand_atoms=tuple(tuple(int(a) for a in row if a >= 0) for row in ligand_atoms),
            protein_atoms=tuple(tuple(int(self.prot_index[a]) for a in row if a >= 0) for row in protein_atoms),
        )


#: Charged-group kinds whose charge centre is the central atom (first member), as in PLIP; others
#: use the mean of the members (carboxylate O pair, Arg/His/Lys side-chain N).
CENTRAL_ATOM_KINDS = frozenset({"phosphate", "sulfonate", "sulfate", "quaternary_amine", "tertiary_amine",
                                "sulfonium"})


def charge_centers(t: AtomTable) -> np.ndarray:
    """(G, 3) Å: charge centre of each charged group."""
    c = t.group_centers()
    if len(c):
        central = np.isin(t.group_kind, list(CENTRAL_ATOM_KINDS))
        c[central] = t.coords[t.groups[central, 0]]
    return c


def member_pairs(a_groups: np.ndarray, b_groups: np.ndarray, n_b: int) -> np.ndarray:
    """Keys ``a * n_b + b`` for every member a of ``a_groups[k]`` and b of ``b_groups[k]`` (rows
    paired k by k; padded -1 skipped): which atom pairs two matched groups cover."""
    if len(a_groups) == 0:
        return np.zeros(0, np.int64)
    a = np.repeat(a_groups[:, :, None], b_groups.shape[1], 2)
    b = np.repeat(b_groups[:, None, :], a_groups.shape[1], 1)
    ok = (a >= 0) & (b >= 0)
    return (a[ok].astype(np.int64) * n_b + b[ok]).astype(np.int64)
