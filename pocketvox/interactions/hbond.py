"""Hydrogen bonds: donor-acceptor heavy-atom distance between ``min_dist`` and ``hbond_dist_max`` and a
D-H...A angle above ``hbond_don_angle_min`` (PLIP), in both directions.

Inputs carry no hydrogens (the reader drops them), so the profiler places them (``rotor`` model):

* donors with two or more heavy neighbours (backbone N-H, ring N-H, amide N-H, R2NH, R3NH+) get one
  hydrogen 1.0 Å along the bisector opposite their neighbours, where sp2 geometry puts it;
* donors with one heavy neighbour (OH, NH2, NH3+) rotate freely: the hydrogen sits on the cone at the
  tetrahedral angle (109.5°) around the X-D bond, at the point of the cone closest to the acceptor;
* donors with no heavy neighbour (water, ammonia) always satisfy the angle.

Refinement as in PLIP: no hydrogen bond between atoms of two groups that form a salt bridge, and one
hydrogen bond per donor atom, the one with the largest D-H...A angle (ties: the shortest).
"""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.result import InteractionSet
from pocketvox.interactions.site import Site, angle_deg, member_pairs, padded_neighbors, unit

#: Å, D-H bond length used to place hydrogens (Open Babel places 0.97-1.02 Å).
DH_LENGTH = 1.0
#: degrees, X-D-H angle of a freely rotating hydrogen (tetrahedral).
ROTOR_ANGLE = 109.47


def donor_angle(t, donors: np.ndarray, acc_xyz: np.ndarray) -> np.ndarray:
    """(K,) degrees: D-H...A angle for donor rows ``donors`` of table ``t`` and acceptor positions
    (K, 3), with hydrogens placed by the rotor model (module docstring)."""
    D = t.coords[donors]
    nb = padded_neighbors(t, donors, 4)
    has = nb >= 0
    k = has.sum(1)
    X = t.coords[np.where(has, nb, 0)]
    bond_dirs = unit(X - D[:, None]) * has[..., None]
    out = np.full(len(donors), 180.0)
    # sp2/sp3 donors with >= 2 heavy neighbours: hydrogen opposite the neighbours' mean direction.
    m = k >= 2
    if m.any():
        h = D[m] + DH_LENGTH * unit(-bond_dirs[m].sum(1))
        out[m] = angle_deg(D[m] - h, acc_xyz[m] - h)
    # One heavy neighbour: best point of the rotor cone.
    m = k == 1
    if m.any():
        axis = -bond_dirs[m, 0]  # from X through D, outwards
        to_a = acc_xyz[m] - D[m]
        perp = to_a - (to_a * axis).sum(-1, keepdims=True) * axis
        perp = unit(perp)
        theta = np.radians(180.0 - ROTOR_ANGLE)
        h = D[m] + DH_LENGTH * (np.cos(theta) * axis + np.sin(theta) * perp)
        out[m] = angle_deg(D[m] - h, acc_xyz[m] - h)
    return out


def _direction(site: Site, donor_lig: bool):
    cfg, L, P = site.cfg, site.lig, site.prot
    if donor_lig:
        sel = L.donor[site.pl] & P.acceptor[site.pp]
    else:
        sel = P.donor[site.pp] & L.acceptor[site.pl]
    sel &= (site.pd > cfg.min_dist) & (site.pd < cfg.hbond_dist_max)
    lg, pr, d = site.pl[sel], site.pp[sel], site.pd[sel]
    if donor_lig:
        ang = donor_angle(L, lg, P.coords[pr])
    else:
        ang = donor_angle(P, pr, L.coords[lg])
    ok = ang > cfg.hbond_don_angle_min
    return lg[ok], pr[ok], d[ok], ang[ok]


def detect(site: Site, salt_pairs: np.ndarray) -> InteractionSet:
    """``salt_pairs``: (S, 2) (ligand group, binding-site group) salt bridges from :mod:`saltbridge`."""
    L, P = site.lig, site.prot
    forbidden = member_pairs(L.groups[salt_pairs[:, 0]], P.groups[salt_pairs[:, 1]], len(P)) \
        if len(salt_pairs) else np.zeros(0, np.int64)
    parts = []
    for donor_lig in (True, False):
        lg, pr, d, ang = _direction(site, donor_lig)
        keep = ~np.isin(lg.astype(np.int64) * len(P) + pr, forbidden)
        lg, pr, d, ang = lg[keep], pr[keep], d[keep], ang[keep]
        donor = lg if donor_lig else pr
        order = np.lexsort((d, -ang, donor))
        first = np.ones(len(order), bool)
        first[1:] = donor[order][1:] != donor[order][:-1]
        k = order[first]
        lg, pr, d, ang = lg[k], pr[k], d[k], ang[k]
        parts.append(site.rows(
            "hbond", pr, subtype=np.full(len(k), "protein_donor" if not donor_lig else "ligand_donor"),
            distance=d, angle=ang, protein_is_donor=np.full(len(k), not donor_lig),
            ligand_point=L.coords[lg], protein_point=P.coords[pr], ligand_atoms=lg[:, None],
            protein_atoms=pr[:, None]))
    return InteractionSet.concat(parts)
