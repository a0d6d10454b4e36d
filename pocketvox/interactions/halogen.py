"""Halogen bonds C-X...A-Y: a ligand halogen X bonded to exactly one carbon, a protein O/N/S acceptor A
with exactly one C/N/P/S neighbour Y, X...A below ``halogen_dist_max``, the C-X...A angle within
``halogen_angle_dev`` of ``halogen_don_angle`` and the Y-A...X angle within it of
``halogen_acc_angle`` (PLIP)."""

from __future__ import annotations

import numpy as np

from pocketvox.interactions.site import Rows, Site, angle_deg


def _single_partner(t, nbr, idx, elements) -> tuple[np.ndarray, np.ndarray]:
    """For rows ``idx`` of ``t`` with neighbour table ``nbr``: (has exactly one bonded neighbour with
    element in ``elements``, that neighbour)."""
    nb = nbr[idx]
    ok_el = (nb >= 0) & np.isin(t.element[np.where(nb >= 0, nb, 0)], list(elements))
    one = ok_el.sum(1) == 1
    first = np.take_along_axis(nb, np.argmax(ok_el, 1)[:, None], 1)[:, 0]
    return one, first


def detect(site: Site) -> Rows | None:
    cfg, L, P = site.cfg, site.lig, site.prot
    if not L.halogen.any():
        return None
    sel = L.halogen[site.pl] & (site.pd > cfg.min_dist) & (site.pd < cfg.halogen_dist_max)
    sel[sel] = np.isin(P.element[site.pp[sel]], ["O", "N", "S"])
    if not sel.any():
        return None
    x, a, d = site.pl[sel], site.pp[sel], site.pd[sel]
    okx, c = _single_partner(L, site.lig_neighbors, x, {"C"})
    oka, y = _single_partner(P, site.prot_neighbors, a, {"C", "N", "P", "S"})
    ok = okx & oka
    x, a, d, c, y = x[ok], a[ok], d[ok], c[ok], y[ok]
    X, A = L.coords[x], P.coords[a]
    acc = angle_deg(P.coords[y] - A, X - A)
    don = angle_deg(A - X, L.coords[c] - X)
    dev = cfg.halogen_angle_dev
    ok = (np.abs(acc - cfg.halogen_acc_angle) < dev) & (np.abs(don - cfg.halogen_don_angle) < dev)
    return site.rows("halogen", a[ok], distance=d[ok], angle=don[ok], ligand_point=X[ok], protein_point=A[ok],
                     ligand_atoms=x[ok], protein_atoms=a[ok])
