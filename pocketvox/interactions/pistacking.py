"""π-stacking between aromatic rings: parallel (ring planes within ``pistack_ang_dev`` of 0°) or
T-shaped (within it of 90°), centroid distance below ``pistack_dist_max`` and offset of the projected
ring centres below ``pistack_offset_max`` (PLIP's definition; offset = the smaller of the two
projections)."""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.site import Rows, Site, distances, plane_offset


def detect(site: Site) -> tuple[Rows | None, np.ndarray]:
    """Returns the interactions and the stacked (ligand ring, binding-site ring) index pairs (S, 2)."""
    cfg, L, P = site.cfg, site.lig, site.prot
    none = (None, np.zeros((0, 2), np.int64))
    if len(L.rings) == 0 or len(P.rings) == 0:
        return none
    lc, ln = site.lig_rings
    pc, pn = site.prot_rings
    d = distances(lc, pc)
    i, j = np.nonzero((d > cfg.min_dist) & (d < cfg.pistack_dist_max))
    if len(i) == 0:
        return none
    cos = np.abs((ln[i] * pn[j]).sum(-1))
    ang = np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))
    off = np.minimum(plane_offset(lc[i], ln[i], pc[j]), plane_offset(pc[j], pn[j], lc[i]))
    par = ang < cfg.pistack_ang_dev  # PLIP also demands ang > 0; exactly parallel rings stack too
    tsh = (ang > 90 - cfg.pistack_ang_dev) & (ang < 90 + cfg.pistack_ang_dev)
    ok = (par | tsh) & (off < cfg.pistack_offset_max)
    i, j, ang, off, par = i[ok], j[ok], ang[ok], off[ok], par[ok]
    res = site.rows(
        "pistacking", P.rings[j, 0], subtype=np.where(par, "parallel", "t-shaped"), distance=d[i, j],
        angle=ang, offset=off, ligand_point=lc[i], protein_point=pc[j],
        ligand_atoms=L.rings[i], protein_atoms=P.rings[j],
    )
    return res, np.stack([i, j], 1).astype(np.int64)
