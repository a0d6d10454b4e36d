"""Cation-π: an aromatic ring and a positive charge centre on the other side, centroid distance below
``pication_dist_max`` and the charge projecting within ``pistack_offset_max`` of the ring centre
(PLIP). A tertiary amine must also face the ring: the angle between the ring normal and the normal of
the plane through the amine's three substituents is at most ``pication_amine_angle_max``. As in PLIP,
a His cation whose ring already π-stacks with the same ligand ring is reported as stacking only."""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.site import Rows, Site, cross, distances, is_member, plane_offset, unit


def _pairs(cfg, rc, rn, gc):
    d = distances(rc, gc)
    i, j = np.nonzero((d > cfg.min_dist) & (d < cfg.pication_dist_max))
    off = plane_offset(rc[i], rn[i], gc[j])
    ok = off < cfg.pistack_offset_max
    return i[ok], j[ok], d[i[ok], j[ok]], off[ok]


def detect(site: Site, stacks: np.ndarray) -> list[Rows]:
    """``stacks``: (S, 2) stacked (ligand ring, binding-site ring) pairs from :mod:`pistacking`."""
    cfg, L, P = site.cfg, site.lig, site.prot
    parts = []
    # Ring on the ligand, cation on the protein.
    if len(L.rings) and len(P.groups) and (P.group_sign > 0).any():
        ppos = np.flatnonzero(P.group_sign > 0)
        rc, rn = site.lig_rings
        gc_all = site.prot_charges
        i, j, d, off = _pairs(cfg, rc, rn, gc_all[ppos])
        g = ppos[j]
        if len(stacks) and len(i):
            rid = site.prot_residue
            nres = int(rid.max()) + 1
            his = P.res_name[P.groups[g, 0]] == "HIS"
            # a His charge whose own ring stacks with this ligand ring
            stack_keys = stacks[:, 0] * nres + rid[P.rings[stacks[:, 1], 0]]
            keys = i * nres + rid[P.groups[g, 0]]
            drop = his & is_member(keys, stack_keys)
            i, g, d, off = i[~drop], g[~drop], d[~drop], off[~drop]
        if len(i):
            parts.append(site.rows(
                "pication", P.groups[g, 0], subtype=np.full(len(i), "protein_positive"), distance=d, offset=off,
                ligand_point=rc[i], protein_point=gc_all[g], ligand_atoms=L.rings[i], protein_atoms=P.groups[g]))
    # Ring on the protein, cation on the ligand.
    if len(P.rings) and len(L.groups) and (L.group_sign > 0).any():
        lpos = np.flatnonzero(L.group_sign > 0)
        rc, rn = site.prot_rings
        gc_all = site.lig_charges
        i, j, d, off = _pairs(cfg, rc, rn, gc_all[lpos])
        g = lpos[j]
        tert = L.group_kind[g] == "tertiary_amine"
        if tert.any():
            nb = site.lig_neighbors[L.groups[g[tert], 0], :3]
            x = L.coords[np.where(nb >= 0, nb, 0)]
            normal = unit(cross(x[:, 0] - x[:, 1], x[:, 2] - x[:, 0]))
            cos = np.abs((normal * rn[i[tert]]).sum(-1))
            ok_t = np.degrees(np.arccos(np.clip(cos, 0, 1))) <= cfg.pication_amine_angle_max
            keep = np.ones(len(i), bool)
            keep[np.flatnonzero(tert)[~ok_t]] = False
            i, g, d, off = i[keep], g[keep], d[keep], off[keep]
        if len(i):
            parts.append(site.rows(
                "pication", P.rings[i, 0], subtype=np.full(len(i), "ligand_positive"), distance=d, offset=off,
                ligand_point=gc_all[g], protein_point=rc[i], ligand_atoms=L.groups[g], protein_atoms=P.rings[i]))
    return parts
