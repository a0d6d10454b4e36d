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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pocketvox.interactions.result import InteractionSet
from pocketvox.interactions.site import Site, csr_neighbors, member_pairs
from pocketvox.structure.typing import residue_index


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


def detect(site: Site, stacks: np.ndarray) -> InteractionSet:
    L, P = site.lig, site.prot
    lg, pr, d = candidates(site, stacks)
    if len(lg) and len(stacks):
        keys = member_pairs(L.rings[stacks[:, 0]], P.rings[stacks[:, 1]], len(P))
        keep = ~np.isin(lg.astype(np.int64) * len(P) + pr, keys)
        lg, pr, d = lg[keep], pr[keep], d[keep]
    if len(lg) == 0:
        return InteractionSet.empty()
    rid = residue_index(P)
    k = _first_per_key(lg.astype(np.int64) * (int(rid.max()) + 1) + rid[pr], d)
    lg, pr, d = lg[k], pr[k], d[k]

    # Rule 3: patches of bonded ligand atoms per protein atom.
    n = len(lg)
    nl = len(L)
    ck = pr.astype(np.int64) * nl + lg
    order = np.argsort(ck)
    sk = ck[order]
    indptr, nb = csr_neighbors(L)
    cnt = indptr[lg + 1] - indptr[lg]
    rows = np.repeat(np.arange(n), cnt)
    within = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    partner = nb[np.repeat(indptr[lg], cnt) + within]
    want = pr[rows].astype(np.int64) * nl + partner
    pos = np.clip(np.searchsorted(sk, want), 0, max(n - 1, 0))
    hit = sk[pos] == want if n else np.zeros(0, bool)
    a, b = rows[hit], order[pos[hit]]
    g = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    comp_size = np.bincount(comp)[comp]
    per_atom = np.bincount(pr, minlength=len(P))[pr]
    best = np.zeros(n, bool)
    best[_first_per_key(comp, d)] = True
    keep = (per_atom == 1) | ((comp_size >= 2) & best)
    lg, pr, d = lg[keep], pr[keep], d[keep]
    return site.rows("hydrophobic", pr, distance=d, ligand_point=L.coords[lg], protein_point=P.coords[pr],
                     ligand_atoms=lg[:, None], protein_atoms=pr[:, None])
