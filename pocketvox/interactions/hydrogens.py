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
Babel keeps them. Which atoms are donors follows Open Babel's protonation too (:func:`effective_donors`:
given hydrogens, His tautomer, neutralised Asp/Glu).

Agreement this buys (PoseBusters residue-level H-bond F1 against PLIP 3.0.1, ``benchmarks/plip_agreement.py``):
train split 0.897 with staggered hydrogens, 0.948 with these rules, 0.962 adding given hydrogens and Open
Babel's donors (:func:`effective_donors`); all 303 complexes 0.889 -> 0.944 -> 0.958.
"""

from __future__ import annotations

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


def _unsaturated(t: AtomTable) -> np.ndarray:
    """(N,) bool: aromatic, or carrying a bond of order > 1."""
    out = t.aromatic.copy()
    if len(t.bonds):
        multi = t.bonds[t.bond_order > 1.01]
        out[multi.ravel()] = True
    return out


def effective_donors(t: AtomTable, receptor: bool = False) -> np.ndarray:
    """(N,) bool: the donors PLIP sees, which are the atoms carrying a hydrogen after Open Babel's
    protonation of the model.

    Where the input gave hydrogens, those decide: exactly the N and O atoms bonded to one (e.g. His
    NE2-H, a neutral Asp). Otherwise the typed donors (``t.donor``, the chemistry the grids also use),
    and for a ``receptor`` two Open Babel choices on top, both made on the z-ordered bond list its
    perception builds (measured on PLIP's test entries):

    * His: the Kekulé structure puts the hydrogen on ND1 only when ND1 lies above CD2 in z (601 of
      604 residues), else on neither N;
    * Asp/Glu: Open Babel protonates the neutral acid, and the hydrogen goes to the carboxylate O with
      the larger z (2,623 of 2,624), which PLIP then counts as a donor.
    """
    if len(t.h_parent):
        out = np.zeros(len(t), bool)
        out[t.h_parent] = True
        return out & ((t.element == "N") | (t.element == "O"))
    if not receptor:
        return t.donor
    out = t.donor.copy()
    z = t.coords[:, 2]
    rings = t.rings
    if len(rings):
        his = rings[(rings[:, 4] >= 0) & (rings[:, 5] < 0)]
        his = his[t.res_name[his[:, 0]] == "HIS"]  # members in template order CG ND1 CE1 NE2 CD2
        out[his[z[his[:, 1]] < z[his[:, 4]], 1]] = False
    acid = t.groups[(t.group_kind == "carboxylate") & (t.groups[:, 1] >= 0) & (t.groups[:, 2] < 0)] \
        if len(t.groups) else t.groups
    if len(acid):
        out[np.where(z[acid[:, 0]] > z[acid[:, 1]], acid[:, 0], acid[:, 1])] = True
    return out


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
    from pocketvox.interactions._kernels import place_hydrogens

    donors = np.asarray(donors, np.int64)
    h = np.full((len(donors), MAX_H, 3), np.nan)
    status = np.zeros(len(donors), np.int8)
    if len(donors) == 0:
        return h, status
    given = None
    if len(t.h_parent):
        given = given_hydrogens(t, donors)
        has_given = ~np.isnan(given[:, 0, 0])
        if has_given.all():
            return given, status
    el = t.element
    elem = np.where(el == "C", 1, np.where(el == "N", 2, np.where(el == "O", 3, 0))).astype(np.int8)
    unsat = _unsaturated(t) if bond_orders else t.aromatic
    place_hydrogens(np.ascontiguousarray(t.coords, np.float64), np.ascontiguousarray(nbr, np.int64), donors, elem,
                    t.aromatic, unsat, np.ascontiguousarray(t.bonds, np.int64).reshape(-1, 2),
                    np.asarray(t.bond_order, np.float64), bool(bond_orders), DH_LENGTH, *_CONE, h, status)
    if given is not None:
        h[has_given] = given[has_given]
        status[has_given] = PLACED
    return h, status


# cos and sin of the hydrogen's angle from the outward X->D axis: tetrahedral, trigonal
_CONE = (np.cos(np.radians(180.0 - TETRAHEDRAL)), np.sin(np.radians(180.0 - TETRAHEDRAL)),
         np.cos(np.radians(180.0 - TRIGONAL)), np.sin(np.radians(180.0 - TRIGONAL)))
