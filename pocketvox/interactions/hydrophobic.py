"""Hydrophobic contacts: pairs of hydrophobic carbons (ligand, protein) between ``min_dist`` and
``hydroph_dist_max``, refined like PLIP's reported list:

1. no contact between two rings that π-stack with each other;
2. per ligand atom and residue, only the closest contact;
3. per protein atom touching several ligand atoms: ligand atoms bonded to each other form a patch,
   only the closest contact of each patch is kept. As in PLIP, a ligand atom with no bonded partner
   among that protein atom's contacts is dropped (PLIP builds patches from bonded pairs only).
"""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.site import Rows, Site, is_member, member_pairs


def _first_per_key(key: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Indices of the smallest ``d`` for each distinct ``key``."""
    order = np.lexsort((d, key))
    k = key[order]
    first = np.ones(len(k), bool)
    first[1:] = k[1:] != k[:-1]
    return order[first]


def candidates(site: Site, stacks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PLIP's unrefined list minus rule 1: (ligand rows, binding-site rows, distances)."""
    cfg, L, P = site.cfg, site.lig, site.prot
    sel = L.hydrophobic[site.pl] & P.hydrophobic[site.pp] & (site.pd > cfg.min_dist) \
        & (site.pd < cfg.hydroph_dist_max)
    return site.pl[sel], site.pp[sel], site.pd[sel]


def detect(site: Site, stacks: np.ndarray) -> Rows | None:
    L, P = site.lig, site.prot
    lg, pr, d = candidates(site, stacks)
    if len(lg) and len(stacks):
        keys = member_pairs(L.rings[stacks[:, 0]], P.rings[stacks[:, 1]], len(P))
        keep = ~is_member(lg * len(P) + pr, keys)
        lg, pr, d = lg[keep], pr[keep], d[keep]
    if len(lg) == 0:
        return None
    rid = site.prot_residue
    k = _first_per_key(lg.astype(np.int64) * (int(rid.max()) + 1) + rid[pr], d)
    lg, pr, d = lg[k], pr[k], d[k]

    # Rule 3: patches of bonded ligand atoms per protein atom.
    from pocketvox.interactions import _kernels

    keep = _kernels.patch_keep(lg, pr, d, len(L), L.bonds, len(P))
    lg, pr, d = lg[keep], pr[keep], d[keep]
    return site.rows("hydrophobic", pr, distance=d, ligand_point=L.coords[lg], protein_point=P.coords[pr],
                     ligand_atoms=lg, protein_atoms=pr)
