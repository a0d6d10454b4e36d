"""Salt bridges: a positive and a negative charge centre (one on each side) closer than
``saltbridge_dist_max`` (PLIP's definition; groups typed in :mod:`pocketvox.structure.typing`)."""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.site import Rows, Site, distances


def detect(site: Site) -> tuple[Rows | None, np.ndarray]:
    """Returns the interactions and the matched (ligand group, binding-site group) pairs (S, 2)."""
    cfg, L, P = site.cfg, site.lig, site.prot
    if len(L.groups) == 0 or len(P.groups) == 0:
        return None, np.zeros((0, 2), np.int64)
    lc, pc = site.lig_charges, site.prot_charges
    d = distances(lc, pc)
    opposite = (L.group_sign[:, None] > 0) != (P.group_sign[None, :] > 0)  # signs are +1 / -1
    i, j = np.nonzero(opposite & (d > cfg.min_dist) & (d < cfg.saltbridge_dist_max))
    prot_pos = P.group_sign[j] > 0
    res = site.rows(
        "saltbridge", P.groups[j, 0], subtype=np.where(prot_pos, "protein_positive", "ligand_positive"),
        distance=d[i, j], ligand_point=lc[i], protein_point=pc[j],
        ligand_atoms=L.groups[i], protein_atoms=P.groups[j],
    )
    return res, np.stack([i, j], 1).astype(np.int64)
