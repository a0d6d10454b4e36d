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


def _rotor_positions(t, donors: np.ndarray, axis: np.ndarray, ref: np.ndarray, planar: np.ndarray) -> np.ndarray:
    """(K, 3, 3) candidate hydrogen positions of one-neighbour donors: staggered dihedrals 60/180/300°
    to the reference atom for a tetrahedral parent, 0/180° (in the parent's plane; third slot nan) for
    a trigonal one, as Open Babel's hydrogen addition places them."""
    D = t.coords[donors]
    e1 = ref - (ref * axis).sum(-1, keepdims=True) * axis
    e1 = unit(e1)
    e2 = np.cross(axis, e1)
    phi = np.where(planar[:, None], np.radians([0.0, 180.0, np.nan]), np.radians([60.0, 180.0, 300.0]))
    theta = np.radians(np.where(planar, 180.0 - 120.0, 180.0 - ROTOR_ANGLE))[:, None, None]
    radial = np.cos(phi)[..., None] * e1[:, None] + np.sin(phi)[..., None] * e2[:, None]
    return D[:, None] + DH_LENGTH * (np.cos(theta) * axis[:, None] + np.sin(theta) * radial)


def _is_planar(t, centers: np.ndarray) -> np.ndarray:
    """(K,) bool: atom ``centers`` has three heavy neighbours in its plane (sp2), or is aromatic."""
    nb = padded_neighbors(t, centers, 4)
    three = (nb >= 0).sum(1) == 3
    x = t.coords[np.where(nb >= 0, nb, 0)][:, :3] - t.coords[centers][:, None]
    vol = np.abs(np.einsum("ki,ki->k", np.cross(unit(x[:, 0]), unit(x[:, 1])), unit(x[:, 2])))
    return (three & (vol < 0.25)) | t.aromatic[centers]


def donor_angle(t, donors: np.ndarray, acc_xyz: np.ndarray, model: str = "rotor", min_angle: float = 100.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """D-H...A geometry for donor rows ``donors`` of table ``t`` and acceptor positions (K, 3).

    Returns ``(angle (K,) degrees, support (K,) in [0, 1])``: the best D-H...A angle over the modelled
    hydrogen positions and the chance that Open Babel's placement gives an angle above ``min_angle``
    (1 or 0 for donors whose hydrogens are fixed by their neighbours; module docstring).
    """
    D = t.coords[donors]
    nb = padded_neighbors(t, donors, 4)
    has = nb >= 0
    k = has.sum(1)
    X = t.coords[np.where(has, nb, 0)]
    bond_dirs = unit(X - D[:, None]) * has[..., None]
    out = np.full(len(donors), 180.0)
    sup = np.ones(len(donors))
    # sp2/sp3 donors with >= 2 heavy neighbours: hydrogen opposite the neighbours' mean direction.
    m = k >= 2
    if m.any():
        h = D[m] + DH_LENGTH * unit(-bond_dirs[m].sum(1))
        out[m] = angle_deg(D[m] - h, acc_xyz[m] - h)
        sup[m] = out[m] > min_angle
    m = np.flatnonzero(k == 1)
    if len(m) == 0:
        return out, sup
    axis = -bond_dirs[m, 0]  # from X through D, outwards
    if model == "rotor":
        to_a = acc_xyz[m] - D[m]
        perp = unit(to_a - (to_a * axis).sum(-1, keepdims=True) * axis)
        theta = np.radians(180.0 - ROTOR_ANGLE)
        h = D[m] + DH_LENGTH * (np.cos(theta) * axis + np.sin(theta) * perp)
        out[m] = angle_deg(D[m] - h, acc_xyz[m] - h)
        sup[m] = out[m] > min_angle
        return out, sup
    # Staggered model: the parent X's other neighbour fixes the dihedral frame.
    xrow = nb[m, 0]
    xnb = padded_neighbors(t, xrow, 4)
    other = np.where(xnb != donors[m][:, None], xnb, -1)
    ref_row = np.take_along_axis(other, np.argmax(other >= 0, 1)[:, None], 1)[:, 0]
    no_ref = ref_row < 0
    ref_vec = np.where(no_ref[:, None], np.cross(axis, [0.0, 0.0, 1.0]) + np.cross(axis, [0.0, 1.0, 0.0]),
                       t.coords[np.where(no_ref, 0, ref_row)] - t.coords[xrow])
    planar = _is_planar(t, xrow)
    hpos = _rotor_positions(t, donors[m], axis, ref_vec, planar)  # (K, 3, 3)
    ang = angle_deg(D[m][:, None] - hpos, acc_xyz[m][:, None] - hpos)
    ok = np.nan_to_num(ang) > min_angle
    n_ok = ok.sum(1)
    is_n = t.element[donors[m]] == "N"
    # O-H: one hydrogen on one of the 2 (planar) or 3 (staggered) positions.
    # N-H2: both planar positions taken; or two of the three staggered ones.
    frac = np.where(planar, n_ok / 2.0, n_ok / 3.0)
    frac = np.where(is_n & planar, (n_ok > 0).astype(float), frac)
    frac = np.where(is_n & ~planar, np.where(n_ok >= 2, 1.0, n_ok * 2.0 / 3.0), frac)
    best = np.nanmax(np.where(ok, ang, np.nan_to_num(ang)), axis=1)
    out[m] = best
    sup[m] = np.where(no_ref, (n_ok > 0).astype(float), frac)
    return out, sup


def _direction(site: Site, donor_lig: bool):
    cfg, L, P = site.cfg, site.lig, site.prot
    if donor_lig:
        sel = L.donor[site.pl] & P.acceptor[site.pp]
    else:
        sel = P.donor[site.pp] & L.acceptor[site.pl]
    sel &= (site.pd > cfg.min_dist) & (site.pd < cfg.hbond_dist_max)
    lg, pr, d = site.pl[sel], site.pp[sel], site.pd[sel]
    if donor_lig:
        ang, sup = donor_angle(L, lg, P.coords[pr], cfg.hbond_hydrogen_model, cfg.hbond_don_angle_min)
    else:
        ang, sup = donor_angle(P, pr, L.coords[lg], cfg.hbond_hydrogen_model, cfg.hbond_don_angle_min)
    ok = (ang > cfg.hbond_don_angle_min) & (sup >= cfg.hbond_min_support)
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
