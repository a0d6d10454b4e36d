"""``profile(complex)``: every non-covalent interaction between a ligand and its receptor.

One pass over the receptor (a numba kernel, after a bounding-box cut) finds the binding site (receptor
atoms within ``bs_dist`` of the ligand) and the candidate atom pairs within the largest atom-atom
cutoff; each family then applies its criteria to arrays of candidates (no Python loop over atoms or
pairs) and the rows of all families are assembled once. Typical cost: well under 1 ms per complex on
one core once the structure is read (the first call loads the compiled kernels).
"""

from __future__ import annotations

import os

import numpy as np

from pocketvox.interactions import halogen, hbond, hydrophobic, pication, pistacking, saltbridge
from pocketvox.interactions.config import ProfilerConfig
from pocketvox.interactions.result import InteractionSet
from pocketvox.interactions.site import Site
from pocketvox.structure.atoms import AtomTable, Complex


def binding_site(protein: AtomTable, ligand: AtomTable, cutoff: float) -> np.ndarray:
    """(N_protein,) bool: receptor atoms within ``cutoff`` Å of any ligand atom."""
    if len(ligand) == 0 or len(protein) == 0:
        return np.zeros(len(protein), bool)
    from pocketvox.interactions import _kernels

    keep = np.ones(len(protein), bool)
    site, *_ = _kernels.site_pairs(ligand.coords, protein.coords, keep, cutoff * cutoff, 0.0)
    return site


def _site_groups(t: AtomTable, in_site: np.ndarray) -> AtomTable:
    """``t`` with only the rings and charged groups whose members all lie in the binding site."""
    rings, groups = t.rings, t.groups
    ok_r = (in_site[rings] | (rings < 0)).all(1) if len(rings) else np.zeros(0, bool)
    ok_g = (in_site[groups] | (groups < 0)).all(1) if len(groups) else np.zeros(0, bool)
    if ok_r.all() and ok_g.all():
        return t
    # dataclasses.replace without re-running the ~20-field __init__ (the columns are shared, not copied)
    out = object.__new__(AtomTable)
    out.__dict__.update(t.__dict__, rings=rings[ok_r], groups=groups[ok_g], group_sign=t.group_sign[ok_g],
                        group_kind=t.group_kind[ok_g])
    return out


def build_site(protein: AtomTable, ligand: AtomTable, cfg: ProfilerConfig) -> Site:
    """The binding site (receptor heavy atoms within ``cfg.bs_dist`` of the ligand) and the candidate
    pairs within ``cfg.search_radius``, found in one brute-force pass over the receptor."""
    from pocketvox.interactions import _kernels

    if (ligand.element == "H").any():
        ligand = ligand.select(ligand.element != "H")
    keep = protein.element != "H"
    # Pairs are kept up to slightly beyond the largest cutoff: every detector applies its own strict
    # cutoff to the distances, so only the superset matters.
    r2 = cfg.search_radius ** 2 * (1.0 + 1e-9)
    in_site, pl, pp, pd = _kernels.site_pairs(ligand.coords, protein.coords, keep, cfg.bs_dist ** 2, r2)
    prot = _site_groups(protein, in_site)
    return Site(ligand, prot, np.flatnonzero(in_site), pl, pp, pd, cfg, in_site)


def profile_tables(protein: AtomTable, ligand: AtomTable, config: ProfilerConfig | None = None) -> InteractionSet:
    """Interactions between typed ``protein`` and ``ligand`` tables (see :func:`profile`)."""
    cfg = config or ProfilerConfig()
    site = build_site(protein, ligand, cfg)
    stack_rows, stacks = pistacking.detect(site)
    salt_rows, salts = saltbridge.detect(site)
    return site.assemble([
        hbond.detect(site, salts),
        hydrophobic.detect(site, stacks),
        stack_rows,
        salt_rows,
        halogen.detect(site),
        *pication.detect(site, stacks),
    ])


def profile(complex: Complex | str | os.PathLike, config: ProfilerConfig | None = None,
            **load_kwargs) -> InteractionSet:
    """Detect hydrogen bonds, hydrophobic contacts, π-stacking, salt bridges, halogen bonds and cation-π
    between ``complex.ligand`` and ``complex.protein`` with PLIP's criteria (``config`` overrides them).

    ``complex`` may also be a path, read with :func:`pocketvox.structure.load_complex` (``load_kwargs``:
    ``ligand``, ``ligand_file``, ``smiles``, ``model``). Rows come in :data:`INTERACTION_TYPES` order;
    ``.to_dataframe()`` gives a pandas table, ``.to_records()`` the CLI's JSON objects.
    """
    if not isinstance(complex, Complex):
        from pocketvox.structure.io import SITE_RADIUS, load_complex

        # only the binding site is read into typed tables: residues within SITE_RADIUS of the ligand
        load_kwargs.setdefault("site_radius", SITE_RADIUS)
        complex = load_complex(complex, **load_kwargs)
    return profile_tables(complex.protein, complex.ligand, config)
