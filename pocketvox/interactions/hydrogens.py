"""Where a donor's hydrogens are when the input has none: Open Babel's placement, reproduced.

PLIP scores a hydrogen bond by the D-H...A angle at a hydrogen that Open Babel added to a heavy-atom
model. Open Babel's positions are deterministic, so reproducing them (rather than letting hydroxyl and
amine hydrogens rotate freely) is what makes the one-bond-per-donor choice and the 100° angle test agree
with PLIP. The rules, measured by running Open Babel 3.2.1 ``AddPolarHydrogens`` on PLIP's own test
entries (``shared/data/plip/pdb``; dihedrals of 2,548 added hydrogens), are:

* **one heavy neighbour X** (hydroxyl, amine, amide NH2): the first hydrogen is *anti* (dihedral
  180°) to a reference neighbour R of X, at 109.5° from the X-D bond (120° when X is trigonal or
  aromatic). R is the last of X's other neighbours in Open Babel's neighbour order; Open Babel
  perceives bonds walking atoms sorted by z, so that order is increasing z and R is the neighbour with
  the largest z coordinate. A carboxyl O is the exception: its hydrogen is anti to the other O. A
  second hydrogen (NH2) sits in the plane on the other side (trigonal X) or at +60° dihedral
  (tetrahedral: Open Babel completes the tetrahedron on a fixed side). An imine N (double bond to X)
  carries one hydrogen only.
* **two or more heavy neighbours**: one hydrogen opposite the mean bond direction; a saturated
  secondary amine (sp3 N, known only where bond orders are, i.e. ligands) gets the tetrahedral
  position Open Babel picks from its two neighbours in z order.
* **no reference** (X has no other heavy neighbour, e.g. methanol) or no neighbour at all: the
  placement is arbitrary in Open Babel too; callers treat such donors separately.

Hydrogens the input gave (``AtomTable.h_coords``, deposited or modelled) are used as they are, as Open
Babel keeps them; a table that has any makes exactly its N and O atoms carrying one the donors
(:func:`effective_donors`).

Agreement this buys (PoseBusters residue-level H-bond F1 against PLIP 3.0.1, train split):
0.897 with freely rotating / staggered hydrogens, 0.948 with these rules (``benchmarks/plip_agreement.py``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pocketvox.structure.atoms import AtomTable

#: Å, D-H bond length of placed hydrogens (Open Babel places 0.97-1.02 Å; angles do not depend on it).
DH_LENGTH = 1.0
#: degrees, X-D-H angle at a tetrahedral (sp3) donor.
TETRAHEDRAL = 109.471
#: degrees, X-D-H angle at a trigonal (sp2) donor.
TRIGONAL = 120.0
#: Most hydrogens per donor: two placed (NH2), three given (NH3+).
MAX_H = 3

#: ``status`` values returned by :func:`donor_hydrogens`.
PLACED, FREE, ARBITRARY = 0, 1, 2


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v, dtype=np.float64), where=n > 0)


def trigonal(coords: np.ndarray, nbr: np.ndarray, aromatic: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(K,) bool: atom ``centers`` is aromatic or has three heavy neighbours in its plane (sp2).

    coords : (N, 3) Å; nbr : (N, 4) heavy neighbours padded with -1; aromatic : (N,) bool.
    """
    nb = nbr[centers]
    three = (nb >= 0).sum(1) == 3
    x = _unit(coords[np.where(nb >= 0, nb, 0)][:, :3] - coords[centers][:, None])
    vol = np.abs(np.einsum("ki,ki->k", np.cross(x[:, 0], x[:, 1]), x[:, 2]))
    return (three & (vol < 0.25)) | aromatic[centers]


def _on_cone(d: np.ndarray, axis: np.ndarray, ref: np.ndarray, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(K, 3) Å: hydrogens at angles ``theta`` (K,) radians from the outward X->D ``axis`` (K, 3) and
    dihedrals ``phi`` (K,) radians to the reference directions ``ref`` (K, 3) around that axis."""
    e1 = _unit(ref - (ref * axis).sum(-1, keepdims=True) * axis)
    e2 = np.cross(axis, e1)
    radial = np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2
    return d + DH_LENGTH * (np.cos(theta)[:, None] * axis + np.sin(theta)[:, None] * radial)


def _bond_order(t: AtomTable, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """(K,) bond order between rows ``i`` and ``j`` (0 where not bonded)."""
    if len(t.bonds) == 0:
        return np.zeros(len(i))
    n = len(t)
    key = t.bonds.min(1).astype(np.int64) * n + t.bonds.max(1)
    order = np.argsort(key)
    q = np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j)
    pos = np.clip(np.searchsorted(key, q, sorter=order), 0, len(key) - 1)
    hit = key[order[pos]] == q
    return np.where(hit, t.bond_order[order[pos]], 0.0)


def _unsaturated(t: AtomTable) -> np.ndarray:
    """(N,) bool: aromatic, or carrying a bond of order > 1."""
    out = t.aromatic.copy()
    if len(t.bonds):
        multi = t.bonds[t.bond_order > 1.01]
        out[multi.ravel()] = True
    return out


def effective_donors(t: AtomTable) -> np.ndarray:
    """(N,) bool: the typed donors, or, when the input gave hydrogens, the N and O atoms bonded to one
    (what Open Babel, and so PLIP, reads from a protonated model: e.g. His NE2-H, a neutral Asp)."""
    if len(t.h_parent) == 0:
        return t.donor
    out = np.zeros(len(t), bool)
    out[t.h_parent] = True
    return out & ((t.element == "N") | (t.element == "O"))


def given_hydrogens(t: AtomTable, donors: np.ndarray) -> np.ndarray:
    """(K, MAX_H, 3) Å: the input's hydrogens on rows ``donors`` (NaN-padded)."""
    out = np.full((len(donors), MAX_H, 3), np.nan)
    if len(t.h_parent) == 0 or len(donors) == 0:
        return out
    order = np.argsort(t.h_parent, kind="stable")
    parent = t.h_parent[order]
    start = np.searchsorted(parent, donors, "left")
    count = np.searchsorted(parent, donors, "right") - start
    for slot in range(MAX_H):  # a loop over hydrogen slots, not atoms
        has = count > slot
        out[has, slot] = t.h_coords[order[start[has] + slot]]
    return out


def donor_hydrogens(t: AtomTable, donors: np.ndarray, nbr: np.ndarray, bond_orders: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Hydrogen positions of donor rows of ``t`` as Open Babel would add them (module docstring).

    Parameters
    ----------
    t : typed table (coordinates, elements, aromatic flags, bonds and bond orders)
    donors : (K,) int, donor rows
    nbr : (N, 4) int, heavy neighbours of every row of ``t`` padded with -1
    bond_orders : whether ``t.bond_order`` is meaningful (ligands); receptors read from PDB files carry
        single bonds only, so their amines are never treated as saturated secondary amines

    Returns
    -------
    h : (K, MAX_H, 3) float64, Å; NaN where a slot holds no hydrogen
    status : (K,) int8, :data:`PLACED`, :data:`FREE` (no heavy neighbour: any direction) or
        :data:`ARBITRARY` (one heavy neighbour without a reference atom: rotation unknown)
    """
    donors = np.asarray(donors, np.int64)
    k_all = len(donors)
    h = np.full((k_all, MAX_H, 3), np.nan)
    status = np.zeros(k_all, np.int8)
    if k_all == 0:
        return h, status
    if len(t.h_parent):
        given = given_hydrogens(t, donors)
        has_given = ~np.isnan(given[:, 0, 0])
        if has_given.all():
            return given, status
        h, status = donor_hydrogens(replace(t, h_coords=np.zeros((0, 3)), h_parent=np.zeros(0, np.int32)), donors,
                                    nbr, bond_orders)
        h[has_given] = given[has_given]
        status[has_given] = PLACED
        return h, status
    xyz = t.coords
    d = xyz[donors]
    nb = nbr[donors]
    has = nb >= 0
    k = has.sum(1)
    status[k == 0] = FREE

    many = np.flatnonzero(k >= 2)
    if len(many):
        dirs = _unit(xyz[np.where(has[many], nb[many], 0)] - d[many][:, None]) * has[many][..., None]
        h[many, 0] = d[many] + DH_LENGTH * _unit(-dirs.sum(1))
        if bond_orders:
            unsat = _unsaturated(t)
            two = nb[many, :2]
            sec = (k[many] == 2) & (t.element[donors[many]] == "N") & ~unsat[donors[many]] & ~unsat[two].any(1)
            if sec.any():
                rows, two = many[sec], two[sec]
                first_low = xyz[two[:, 0], 2] <= xyz[two[:, 1], 2]
                lo = np.where(first_low, two[:, 0], two[:, 1])
                hi = np.where(first_low, two[:, 1], two[:, 0])
                b1, b2 = _unit(d[rows] - xyz[lo]), _unit(d[rows] - xyz[hi])
                # the tetrahedral position on the side of b1 x b2 (Open Babel's choice for sp3 N-H)
                h[rows, 0] = d[rows] + DH_LENGTH * _unit(_unit(np.cross(b1, b2)) + _unit(b1 + b2) * np.sqrt(0.5))

    one = np.flatnonzero(k == 1)
    if len(one) == 0:
        return h, status
    x = nb[one, 0]
    dn = donors[one]
    xnb = nbr[x]
    other = (xnb >= 0) & (xnb != dn[:, None])
    safe = np.where(other, xnb, 0)
    z = np.where(other, xyz[safe, 2], -np.inf)
    ref = np.where(other.any(1), safe[np.arange(len(one)), np.argmax(z, 1)], -1)
    # a carboxyl O's hydrogen goes anti to the other O
    heavy_deg = (nbr >= 0).sum(1)
    term_o = other & (t.element[safe] == "O") & (heavy_deg[safe] == 1)
    carboxyl = (t.element[dn] == "O") & (t.element[x] == "C") & term_o.any(1)
    ref = np.where(carboxyl, safe[np.arange(len(one)), np.argmax(term_o, 1)], ref)
    placed = ref >= 0
    status[one[~placed]] = ARBITRARY
    one, x, dn, ref = one[placed], x[placed], dn[placed], ref[placed]
    if len(one) == 0:
        return h, status
    axis = _unit(d[one] - xyz[x])
    ref_vec = xyz[ref] - xyz[x]
    flat = trigonal(xyz, nbr, t.aromatic, x)
    theta = np.radians(180.0 - np.where(flat, TRIGONAL, TETRAHEDRAL))
    h[one, 0] = _on_cone(d[one], axis, ref_vec, theta, np.full(len(one), np.pi))
    second = t.element[dn] == "N"
    if bond_orders:
        second &= _bond_order(t, dn, x) < 1.5  # an imine N (double bond to X) carries one hydrogen
    if second.any():
        s = np.flatnonzero(second)
        phi = np.where(flat[s], 0.0, np.radians(60.0))
        h[one[s], 1] = _on_cone(d[one[s]], axis[s], ref_vec[s], theta[s], phi)
    return h, status
