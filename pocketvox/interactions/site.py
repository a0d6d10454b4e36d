"""The binding site: the ligand, the receptor atoms near it, candidate pairs and small geometry helpers
shared by the detectors. Built once per complex by :func:`pocketvox.interactions.profile.build_site`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from pocketvox.interactions.config import ProfilerConfig
from pocketvox.interactions.result import INTERACTION_TYPES, InteractionSet
from pocketvox.structure.atoms import AtomTable


def unit(v: np.ndarray) -> np.ndarray:
    """Row-wise unit vectors of (..., 3); zero rows stay zero (and so do rows with a nan)."""
    n = np.sqrt((v * v).sum(-1, keepdims=True))  # what np.linalg.norm computes, without its overhead
    return np.divide(v, n, out=np.zeros(v.shape), where=n > 0)


_C1, _C2 = np.array([1, 2, 0]), np.array([2, 0, 1])


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (..., 3) arrays (the products and differences of ``np.cross``)."""
    return a[..., _C1] * b[..., _C2] - a[..., _C2] * b[..., _C1]


def angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise angle between vectors (..., 3), degrees in [0, 180]."""
    c = (unit(u) * unit(v)).sum(-1)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def is_member(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(K,) bool: ``np.isin(keys, table)`` for the short integer arrays of the detectors."""
    if len(table) == 0 or len(keys) == 0:
        return np.zeros(len(keys), bool)
    return (keys[:, None] == table[None, :]).any(1)


def plane_offset(center: np.ndarray, normal: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Å: distance between ``center`` and the projection of ``point`` onto the plane through
    ``center`` with unit ``normal`` (rows)."""
    d = point - center
    return norm(d - (d * normal).sum(-1, keepdims=True) * normal)


def norm(v: np.ndarray) -> np.ndarray:
    """Row-wise length of (..., 3) vectors: ``np.linalg.norm(v, axis=-1)`` without its overhead."""
    return np.sqrt((v * v).sum(-1))


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, B) Å between the rows of ``a`` (A, 3) and ``b`` (B, 3)."""
    return norm(a[:, None] - b[None])


def csr_neighbors(t: AtomTable) -> tuple[np.ndarray, np.ndarray]:
    if len(t.bonds) == 0:
        return np.zeros(len(t) + 1, np.int64), np.zeros(0, np.int64)
    return t.adjacency_csr()


def padded_neighbors(t: AtomTable, idx: np.ndarray, width: int = 4) -> np.ndarray:
    """(len(idx), width) int64: bonded heavy neighbours of rows ``idx`` padded with -1 (the first
    ``width`` partners in row order, hydrogens among them then dropped)."""
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


def _centers(coords: np.ndarray, members: np.ndarray) -> np.ndarray:
    if len(members) == 0:
        return np.zeros((0, 3))
    mask = (members >= 0)[..., None]
    return (coords[np.where(members >= 0, members, 0)] * mask).sum(1) / mask.sum(1)


#: Charged-group kinds whose charge centre is the central atom (first member), as in PLIP; others
#: use the mean of the members (carboxylate O pair, Arg/His/Lys side-chain N).
CENTRAL_ATOM_KINDS = frozenset({"phosphate", "sulfonate", "sulfate", "quaternary_amine", "tertiary_amine",
                                "sulfonium"})


def charge_centers(t: AtomTable) -> np.ndarray:
    """(G, 3) Å: charge centre of each charged group."""
    c = _centers(t.coords, t.groups)
    if len(c):
        central = np.array([k in CENTRAL_ATOM_KINDS for k in t.group_kind.tolist()], bool)
        if central.any():
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


class Rows(NamedTuple):
    """One detector's K interactions before assembly (see :meth:`Site.assemble`).

    ``res_rows`` (K,): receptor rows naming each row's residue; ``subtype``: (K,) str or None;
    ``ligand_atoms`` / ``protein_atoms``: (K,) rows or (K, W) rows padded with -1 (receptor rows).
    """

    kind: str
    res_rows: np.ndarray
    distance: np.ndarray
    ligand_point: np.ndarray
    protein_point: np.ndarray
    ligand_atoms: np.ndarray
    protein_atoms: np.ndarray
    subtype: np.ndarray | None = None
    angle: np.ndarray | None = None
    offset: np.ndarray | None = None
    protein_is_donor: np.ndarray | None = None


def _atom_tuples(a: np.ndarray) -> list:
    if a.ndim == 1:
        return list(zip(a.tolist()))  # 1-tuples
    return [tuple(x for x in r if x >= 0) for r in a.tolist()]


@dataclass
class Site:
    """Ligand ``lig`` (heavy atoms), receptor ``prot`` and candidate pairs within
    ``cfg.search_radius``: ligand rows ``pl``, receptor rows ``pp``, distances ``pd`` (Å).

    The binding site (``in_site`` (N,) bool, rows ``prot_index``) is what the detectors see of the
    receptor: its rings and charged groups are those whose members all lie in the site, and
    neighbour tables only link site atoms. ``prot`` keeps the receptor's row numbering (no copy of
    the site's columns); its rings and groups are already restricted to the site.
    """

    lig: AtomTable
    prot: AtomTable
    prot_index: np.ndarray
    pl: np.ndarray
    pp: np.ndarray
    pd: np.ndarray
    cfg: ProfilerConfig
    in_site: np.ndarray | None = None

    # --------------------------------------------------------------- cached per-site quantities
    @cached_property
    def lig_neighbors(self) -> np.ndarray:
        """(L, 4) int64: heavy neighbours of every ligand row, ascending, padded with -1."""
        from pocketvox.interactions import _kernels

        L = self.lig
        return _kernels.padded_neighbors(len(L), L.bonds, np.ones(len(L), bool), 4)

    @cached_property
    def prot_neighbors(self) -> np.ndarray:
        """(N, 4) int64: neighbours of every receptor row within the binding site, padded with -1."""
        from pocketvox.interactions import _kernels

        P = self.prot
        return _kernels.padded_neighbors(len(P), P.bonds, self.in_site, 4)

    @cached_property
    def prot_residue(self) -> np.ndarray:
        """(N,) int64: residue number of binding-site rows, counting changes of (chain, res_num, icode,
        res_name) between consecutive site rows (0 elsewhere)."""
        P, rows = self.prot, self.prot_index
        out = np.zeros(len(P), np.int64)
        if len(rows):
            c, n, i, r = P.chain[rows], P.res_num[rows], P.icode[rows], P.res_name[rows]
            ch = np.empty(len(rows), bool)
            ch[0] = True
            ch[1:] = (c[1:] != c[:-1]) | (n[1:] != n[:-1]) | (i[1:] != i[:-1]) | (r[1:] != r[:-1])
            out[rows] = np.cumsum(ch) - 1
        return out

    @cached_property
    def _ring_geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """Centroids (R, 3) Å and unit normals (R, 3) of the ligand's rings, then the site's (as
        :meth:`AtomTable.ring_centers` / :meth:`AtomTable.ring_normals`, matrix by matrix).

        The eigendecompositions dominate the cost, so normals are computed only for rings that some
        ring or cation on the other side comes close enough to for π-stacking or cation-π (zero rows
        elsewhere, which no detector reads)."""
        L, P, cfg = self.lig, self.prot, self.cfg
        rings = np.concatenate([L.rings, P.rings])
        normals = np.zeros((len(rings), 3))
        if len(rings) == 0:
            return normals, normals
        nl = len(L.rings)
        ok = rings >= 0
        pts = np.concatenate([L.coords[np.where(ok[:nl], L.rings, 0)], P.coords[np.where(ok[nl:], P.rings, 0)]])
        mask = ok[..., None]
        c = (pts * mask).sum(1) / mask.sum(1)
        lc, pc = c[:nl], c[nl:]
        near_l = (distances(lc, pc) < cfg.pistack_dist_max).any(1)
        near_p = (distances(pc, lc) < cfg.pistack_dist_max).any(1)
        for centers, sign, near, other in ((lc, P.group_sign, near_l, self.prot_charges),
                                           (pc, L.group_sign, near_p, self.lig_charges)):
            if len(centers) and (sign > 0).any():
                near |= (distances(centers, other[sign > 0]) < cfg.pication_dist_max).any(1)
        need = np.flatnonzero(np.concatenate([near_l, near_p]))
        if len(need):
            d = (pts[need] - c[need][:, None]) * mask[need]
            _, vecs = np.linalg.eigh(np.einsum("rki,rkj->rij", d, d))
            normals[need] = vecs[:, :, 0]
        return c, normals

    @property
    def lig_rings(self) -> tuple[np.ndarray, np.ndarray]:
        """Ligand ring centroids (R, 3) Å and unit normals (R, 3)."""
        c, n = self._ring_geometry
        k = len(self.lig.rings)
        return c[:k], n[:k]

    @property
    def prot_rings(self) -> tuple[np.ndarray, np.ndarray]:
        """Binding-site ring centroids (R, 3) Å and unit normals (R, 3)."""
        c, n = self._ring_geometry
        k = len(self.lig.rings)
        return c[k:], n[k:]

    @cached_property
    def lig_charges(self) -> np.ndarray:
        return charge_centers(self.lig)

    @cached_property
    def prot_charges(self) -> np.ndarray:
        return charge_centers(self.prot)

    # --------------------------------------------------------------- output
    def rows(self, kind: str, prot_rows: np.ndarray, *, subtype=None, distance, ligand_point, protein_point,
             angle=None, offset=None, protein_is_donor=None, ligand_atoms=(), protein_atoms=()) -> Rows:
        """K rows of one type; ``prot_rows`` (K,) are receptor rows naming each row's residue;
        ``ligand_atoms`` / ``protein_atoms`` are (K,) or padded (K, W) rows."""
        return Rows(kind, prot_rows, distance, ligand_point, protein_point, ligand_atoms, protein_atoms,
                    subtype, angle, offset, protein_is_donor)

    def assemble(self, parts: list[Rows | None]) -> InteractionSet:
        """One :class:`InteractionSet` from detector parts, in :data:`INTERACTION_TYPES` order."""
        parts = sorted((p for p in parts if p is not None and len(p.res_rows)), key=lambda p: _TYPE_ORDER[p.kind])
        if not parts:
            return InteractionSet.empty()
        ks = [len(p.res_rows) for p in parts]
        k = sum(ks)
        rr = np.empty(k, np.int64)
        subtype = np.zeros(k, "<U16")
        dist, angle, offset = np.empty(k), np.full(k, np.nan), np.full(k, np.nan)
        lpt, ppt = np.empty((k, 3)), np.empty((k, 3))
        pdon = np.zeros(k, bool)
        lat, pat = [], []
        s = 0
        for p, n in zip(parts, ks):
            e = s + n
            rr[s:e] = p.res_rows
            dist[s:e] = p.distance
            lpt[s:e] = p.ligand_point
            ppt[s:e] = p.protein_point
            if p.subtype is not None:
                subtype[s:e] = p.subtype
            if p.angle is not None:
                angle[s:e] = p.angle
            if p.offset is not None:
                offset[s:e] = p.offset
            if p.protein_is_donor is not None:
                pdon[s:e] = p.protein_is_donor
            lat += _atom_tuples(np.asarray(p.ligand_atoms))
            pat += _atom_tuples(np.asarray(p.protein_atoms))
            s = e
        P = self.prot
        return InteractionSet(
            type=np.repeat(np.array([p.kind for p in parts], "<U12"), ks),
            subtype=subtype, distance=dist, angle=angle, offset=offset, ligand_point=lpt, protein_point=ppt,
            protein_is_donor=pdon,
            res_chain=P.chain[rr].astype("<U4"), res_num=P.res_num[rr].astype(np.int32),
            res_icode=P.icode[rr].astype("<U1"), res_name=P.res_name[rr].astype("<U5"),
            ligand_atoms=tuple(lat), protein_atoms=tuple(pat),
        )


_TYPE_ORDER = {t: i for i, t in enumerate(INTERACTION_TYPES)}
