"""Cation-π: an aromatic ring and a positive charge centre on the other side, centroid distance below
``pication_dist_max`` and the charge projecting within ``pistack_offset_max`` of the ring centre
(PLIP). A tertiary amine must also face the ring: the angle between the ring normal and the normal of
the plane through the amine's three substituents is at most ``pication_amine_angle_max``. As in PLIP,
a His cation whose ring already π-stacks with the same ligand ring is reported as stacking only."""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.result import InteractionSet
from pocketvox.interactions.site import Site, charge_centers, padded_neighbors, plane_offset, unit
from pocketvox.structure.typing import residue_index


def _pairs(cfg, rc, rn, gc):
    d = np.linalg.norm(rc[:, None] - gc[None], axis=-1)
    i, j = np.nonzero((d > cfg.min_dist) & (d < cfg.pication_dist_max))
    off = plane_offset(rc[i], rn[i], gc[j])
    ok = off < cfg.pistack_offset_max
    return i[ok], j[ok], d[i[ok], j[ok]], off[ok]


def detect(site: Site, stacks: np.ndarray) -> InteractionSet:
    """``stacks``: (S, 2) stacked (ligand ring, binding-site ring) pairs from :mod:`pistacking`."""
    cfg, L, P = site.cfg, site.lig, site.prot
    parts = []
    # Ring on the ligand, cation on the protein.
    ppos = np.flatnonzero(P.group_sign > 0)
    if len(L.rings) and len(ppos):
        rc, rn = L.ring_centers(), L.ring_normals()
        gc = charge_centers(P)[ppos]
        i, j, d, off = _pairs(cfg, rc, rn, gc)
        g = ppos[j]
        if len(stacks) and len(i):
            rid = residue_index(P)
            his = P.res_name[P.groups[g, 0]] == "HIS"
            # a His charge whose own ring stacks with this ligand ring
            stack_keys = stacks[:, 0] * (rid.max() + 1) + rid[P.rings[stacks[:, 1], 0]]
            keys = i * (rid.max() + 1) + rid[P.groups[g, 0]]
            drop = his & np.isin(keys, stack_keys)
            i, g, d, off = i[~drop], g[~drop], d[~drop], off[~drop]
        parts.append(site.rows(
            "pication", P.groups[g, 0], subtype=np.full(len(i), "protein_positive"), distance=d, offset=off,
            ligand_point=rc[i], protein_point=charge_centers(P)[g], ligand_atoms=L.rings[i],
            protein_atoms=P.groups[g]))
    # Ring on the protein, cation on the ligand.
    lpos = np.flatnonzero(L.group_sign > 0)
    if len(P.rings) and len(lpos):
        rc, rn = P.ring_centers(), P.ring_normals()
        gc = charge_centers(L)[lpos]
        i, j, d, off = _pairs(cfg, rc, rn, gc)
        g = lpos[j]
        tert = L.group_kind[g] == "tertiary_amine"
        if tert.any():
            nb = padded_neighbors(L, L.groups[g[tert], 0], 3)
            x = L.coords[np.where(nb >= 0, nb, 0)]
            normal = unit(np.cross(x[:, 0] - x[:, 1], x[:, 2] - x[:, 0]))
            cos = np.abs((normal * rn[i[tert]]).sum(-1))
            ok_t = np.degrees(np.arccos(np.clip(cos, 0, 1))) <= cfg.pication_amine_angle_max
            keep = np.ones(len(i), bool)
            keep[np.flatnonzero(tert)[~ok_t]] = False
            i, g, d, off = i[keep], g[keep], d[keep], off[keep]
        parts.append(site.rows(
            "pication", P.rings[i, 0], subtype=np.full(len(i), "ligand_positive"), distance=d, offset=off,
            ligand_point=charge_centers(L)[g], protein_point=rc[i], ligand_atoms=L.groups[g],
            protein_atoms=P.rings[i]))
    return InteractionSet.concat(parts)
