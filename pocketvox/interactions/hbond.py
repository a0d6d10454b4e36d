"""Hydrogen bonds: donor-acceptor heavy-atom distance between ``min_dist`` and ``hbond_dist_max`` and a
D-H...A angle above ``hbond_don_angle_min`` (PLIP), in both directions.

Typing and detection work on heavy atoms; hydrogens the input gave ride along (``AtomTable.h_coords``),
the others are modelled (``ProfilerConfig.hbond_hydrogen_model``):

* ``openbabel`` (default): the input's own hydrogens where it has them, else where Open Babel's
  hydrogen addition, which PLIP relies on, puts them
  (:mod:`pocketvox.interactions.hydrogens`): one heavy neighbour X -> anti to X's highest-z other
  neighbour (carboxyl O: anti to the other O); two or more -> opposite their mean direction (saturated
  secondary amines of the ligand: Open Babel's tetrahedral position). Donors whose parent has no other
  heavy neighbour fall back on the rotor rule, those without heavy neighbours always pass the angle;
* ``staggered``: one-neighbour donors may take any of Open Babel's candidate positions (three staggered
  dihedrals, two in-plane for a trigonal parent); the bond counts when a fraction of at least
  ``hbond_min_support`` of them passes the angle;
* ``rotor``: one-neighbour donors rotate freely; the hydrogen sits on the tetrahedral cone around the
  X-D bond at the point closest to the acceptor (the most permissive reading).

Refinement as in PLIP: no hydrogen bond between atoms of two groups that form a salt bridge, and one
hydrogen bond per donor atom, the one with the largest D-H...A angle (ties: the shortest).
"""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.hydrogens import ARBITRARY, PLACED, donor_hydrogens, effective_donors
from pocketvox.interactions.site import Rows, Site, angle_deg, cross, is_member, member_pairs, padded_neighbors, unit

#: Å, D-H bond length used to place hydrogens (Open Babel places 0.97-1.02 Å).
DH_LENGTH = 1.0
#: degrees, X-D-H angle of a freely rotating hydrogen (tetrahedral).
ROTOR_ANGLE = 109.47


def _rotor_positions(D: np.ndarray, axis: np.ndarray, ref: np.ndarray, planar: np.ndarray) -> np.ndarray:
    """(K, 3, 3) candidate hydrogen positions of one-neighbour donors at ``D`` (K, 3): staggered
    dihedrals 60/180/300° to the reference atom for a tetrahedral parent, 0/180° (in the parent's
    plane; third slot nan) for a trigonal one, as Open Babel's hydrogen addition places them."""
    e1 = unit(ref - (ref * axis).sum(-1, keepdims=True) * axis)
    e2 = cross(axis, e1)
    p = planar[:, None]
    radial = np.where(p, _COS_PHI[0], _COS_PHI[1])[..., None] * e1[:, None] \
        + np.where(p, _SIN_PHI[0], _SIN_PHI[1])[..., None] * e2[:, None]
    p = p[..., None]
    return D[:, None] + DH_LENGTH * (np.where(p, _COS_THETA[0], _COS_THETA[1]) * axis[:, None]
                                     + np.where(p, _SIN_THETA[0], _SIN_THETA[1]) * radial)


# cos / sin of the dihedrals and cone angles (planar parent, tetrahedral parent), computed once
_PHI = np.radians([[0.0, 180.0, np.nan], [60.0, 180.0, 300.0]])
_COS_PHI, _SIN_PHI = np.cos(_PHI), np.sin(_PHI)
_THETA = np.radians(np.array([180.0 - 120.0, 180.0 - ROTOR_ANGLE]))
_COS_THETA, _SIN_THETA = np.cos(_THETA), np.sin(_THETA)


def _is_planar(coords: np.ndarray, nbr: np.ndarray, aromatic: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(K,) bool: atom ``centers`` has three heavy neighbours in its plane (sp2), or is aromatic."""
    nb = nbr[centers]
    three = (nb >= 0).sum(1) == 3
    x = unit(coords[np.where(nb >= 0, nb, 0)][:, :3] - coords[centers][:, None])
    vol = np.abs(np.einsum("ki,ki->k", cross(x[:, 0], x[:, 1]), x[:, 2]))
    return (three & (vol < 0.25)) | aromatic[centers]


def donor_angle(t, donors: np.ndarray, acc_xyz: np.ndarray, model: str = "openbabel", min_angle: float = 100.0,
                bond_orders: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """D-H...A geometry for donor rows ``donors`` of table ``t`` and acceptor positions (K, 3).

    Returns ``(angle (K,) degrees, support (K,) in [0, 1])``: the best D-H...A angle over the modelled
    hydrogen positions and the chance that Open Babel's placement gives an angle above ``min_angle``
    (1 or 0 for donors whose hydrogens are fixed; module docstring). ``bond_orders``: whether
    ``t.bond_order`` is meaningful (ligands), see :func:`~pocketvox.interactions.hydrogens.donor_hydrogens`.
    """
    nbr = padded_neighbors(t, np.arange(len(t)), 4)
    return _donor_angle(t, nbr, np.asarray(donors, np.int64), np.asarray(acc_xyz, np.float64), model, min_angle,
                        bond_orders)


def _openbabel_angle(t, nbr: np.ndarray, donors: np.ndarray, acc_xyz: np.ndarray, min_angle: float,
                     bond_orders: bool) -> tuple[np.ndarray, np.ndarray]:
    """The ``openbabel`` model: angles at the hydrogens Open Babel would add (best over an NH2's two)."""
    h, status = donor_hydrogens(t, donors, nbr, bond_orders)
    out = np.full(len(donors), 180.0)
    placed = np.flatnonzero(status == PLACED)
    if len(placed):
        d = t.coords[donors[placed]][:, None]
        a = angle_deg(d - h[placed], acc_xyz[placed][:, None] - h[placed])
        out[placed] = np.where(np.isnan(h[placed, :, 0]), -1.0, a).max(1)
    arbitrary = np.flatnonzero(status == ARBITRARY)
    if len(arbitrary):
        out[arbitrary], _ = _donor_angle(t, nbr, donors[arbitrary], acc_xyz[arbitrary], "rotor", min_angle)
    return out, (out > min_angle).astype(float)


def _donor_angle(t, nbr: np.ndarray, donors: np.ndarray, acc_xyz: np.ndarray, model: str, min_angle: float,
                 bond_orders: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`donor_angle` given ``nbr`` (N, 4), the heavy neighbours of every row of ``t`` padded with
    -1 (:func:`padded_neighbors`; the profiler passes the binding site's cached table)."""
    if model == "openbabel":
        return _openbabel_angle(t, nbr, donors, acc_xyz, min_angle, bond_orders)
    coords = t.coords
    D = coords[donors]
    nb = nbr[donors]
    has = nb >= 0
    k = has.sum(1)
    out = np.full(len(donors), 180.0)
    sup = np.ones(len(donors))
    m2 = np.flatnonzero(k >= 2)
    m = np.flatnonzero(k == 1)
    if len(m2) == 0 and len(m) == 0:
        return out, sup
    bond_dirs = unit(coords[np.where(has, nb, 0)] - D[:, None]) * has[..., None]
    # sp2/sp3 donors with >= 2 heavy neighbours: hydrogen opposite the neighbours' mean direction.
    if len(m2):
        Dm = D[m2]
        h = Dm + DH_LENGTH * unit(-bond_dirs[m2].sum(1))
        out[m2] = a = angle_deg(Dm - h, acc_xyz[m2] - h)
        sup[m2] = a > min_angle
    if len(m) == 0:
        return out, sup
    Dm, Am = D[m], acc_xyz[m]
    axis = -bond_dirs[m, 0]  # from X through D, outwards
    if model == "rotor":
        to_a = Am - Dm
        perp = unit(to_a - (to_a * axis).sum(-1, keepdims=True) * axis)
        # an acceptor on the X-D axis: every point of the cone is equivalent, take any
        on_axis = ~perp.any(1)
        if on_axis.any():
            perp[on_axis] = unit(cross(axis[on_axis], np.where(np.abs(axis[on_axis, :1]) < 0.9, [[1.0, 0, 0]],
                                                               [[0, 1.0, 0]])))
        theta = np.radians(180.0 - ROTOR_ANGLE)
        h = Dm + DH_LENGTH * (np.cos(theta) * axis + np.sin(theta) * perp)
        out[m] = a = angle_deg(Dm - h, Am - h)
        sup[m] = a > min_angle
        return out, sup
    # Staggered model: the parent X's other neighbour fixes the dihedral frame.
    xrow = nb[m, 0]
    xnb = nbr[xrow]
    other = (xnb >= 0) & (xnb != donors[m][:, None])
    ref_row = np.where(other.any(1), xnb[np.arange(len(m)), np.argmax(other, 1)], -1)
    no_ref = ref_row < 0
    if no_ref.any():
        ref_vec = np.where(no_ref[:, None], np.cross(axis, [0.0, 0.0, 1.0]) + np.cross(axis, [0.0, 1.0, 0.0]),
                           coords[np.where(no_ref, 0, ref_row)] - coords[xrow])
    else:
        ref_vec = coords[ref_row] - coords[xrow]
    planar = _is_planar(coords, nbr, t.aromatic, xrow)
    hpos = _rotor_positions(Dm, axis, ref_vec, planar)  # (K, 3, 3)
    # unit() maps the nan slot of a planar parent to a zero vector, so angles are never nan (90° there)
    ang = angle_deg(Dm[:, None] - hpos, Am[:, None] - hpos)
    ok = ang > min_angle
    n_ok = ok.sum(1)
    is_n = t.element[donors[m]] == "N"
    # O-H: one hydrogen on one of the 2 (planar) or 3 (staggered) positions.
    # N-H2: both planar positions taken; or two of the three staggered ones.
    frac = np.where(planar, n_ok / 2.0, n_ok / 3.0)
    frac = np.where(is_n & planar, (n_ok > 0).astype(float), frac)
    frac = np.where(is_n & ~planar, np.where(n_ok >= 2, 1.0, n_ok * 2.0 / 3.0), frac)
    out[m] = ang.max(1)
    sup[m] = np.where(no_ref, (n_ok > 0).astype(float), frac)
    return out, sup


def detect(site: Site, salt_pairs: np.ndarray) -> Rows | None:
    """``salt_pairs``: (S, 2) (ligand group, binding-site group) salt bridges from :mod:`saltbridge`."""
    cfg, L, P = site.cfg, site.lig, site.prot
    pl, pp, pd = site.pl, site.pp, site.pd
    near = (pd > cfg.min_dist) & (pd < cfg.hbond_dist_max)
    forbidden = member_pairs(L.groups[salt_pairs[:, 0]], P.groups[salt_pairs[:, 1]], len(P)) \
        if len(salt_pairs) else None
    parts = []
    for prot_donor in (False, True):
        if prot_donor:
            sel = np.flatnonzero(near & effective_donors(P, receptor=True)[pp] & L.acceptor[pl])
        else:
            sel = np.flatnonzero(near & effective_donors(L)[pl] & P.acceptor[pp])
        if forbidden is not None and len(sel):
            sel = sel[~is_member(pl[sel] * len(P) + pp[sel], forbidden)]
        if len(sel) == 0:
            continue
        lg, pr = pl[sel], pp[sel]
        if prot_donor:
            ang, sup = _donor_angle(P, site.prot_neighbors, pr, L.coords[lg], cfg.hbond_hydrogen_model,
                                    cfg.hbond_don_angle_min)
        else:
            ang, sup = _donor_angle(L, site.lig_neighbors, lg, P.coords[pr], cfg.hbond_hydrogen_model,
                                    cfg.hbond_don_angle_min, bond_orders=True)
        ok = (ang > cfg.hbond_don_angle_min) & (sup >= cfg.hbond_min_support)
        parts.append((sel[ok], ang[ok], np.full(int(ok.sum()), prot_donor)))
    if not parts:
        return None
    sel, ang, pdon = (np.concatenate(x) for x in zip(*parts)) if len(parts) > 1 else parts[0]
    lg, pr, d = pl[sel], pp[sel], pd[sel]
    # one hydrogen bond per donor atom (ligand donors first): the largest angle, then the shortest
    donor = np.where(pdon, pr + len(L), lg)
    order = np.lexsort((d, -ang, donor))
    first = np.ones(len(order), bool)
    first[1:] = donor[order][1:] != donor[order][:-1]
    k = order[first]
    lg, pr, d, ang, pdon = lg[k], pr[k], d[k], ang[k], pdon[k]
    return site.rows(
        "hbond", pr, subtype=np.where(pdon, "protein_donor", "ligand_donor"),
        distance=d, angle=ang, protein_is_donor=pdon,
        ligand_point=L.coords[lg], protein_point=P.coords[pr], ligand_atoms=lg, protein_atoms=pr)
