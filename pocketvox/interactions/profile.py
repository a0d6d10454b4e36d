"""``profile(complex)``: every non-covalent interaction between a ligand and its receptor.

One KD-tree query finds the binding site (receptor atoms within ``bs_dist`` of the ligand, after a
bounding-box cut), a second one the candidate atom pairs within the largest atom-atom cutoff; each
family then applies its criteria to arrays of candidates (no Python loop over atoms or pairs).
Typical cost: 1-3 ms per complex on one core once the structure is read.
"""

from __future__ import annotations

import os

import numpy as np
from scipy.spatial import cKDTree

from pocketvox.interactions import halogen, hbond, hydrophobic, pication, pistacking, saltbridge
from pocketvox.interactions.config import ProfilerConfig
from pocketvox.interactions.result import INTERACTION_TYPES, InteractionSet
from pocketvox.interactions.site import Site
from pocketvox.structure.atoms import AtomTable, Complex


def binding_site(protein: AtomTable, ligand: AtomTable, cutoff: float) -> np.ndarray:
    """(N_protein,) bool: receptor atoms within ``cutoff`` Å of any ligand atom."""
    if len(ligand) == 0 or len(protein) == 0:
        return np.zeros(len(protein), bool)
    lo, hi = ligand.coords.min(0) - cutoff, ligand.coords.max(0) + cutoff
    box = np.flatnonzero(((protein.coords >= lo) & (protein.coords <= hi)).all(1))
    d, _ = cKDTree(ligand.coords).query(protein.coords[box], distance_upper_bound=cutoff)
    mask = np.zeros(len(protein), bool)
    mask[box[np.isfinite(d)]] = True
    return mask


def build_site(protein: AtomTable, ligand: AtomTable, cfg: ProfilerConfig) -> Site:
    if (ligand.element == "H").any():
        ligand = ligand.select(ligand.element != "H")
    mask = binding_site(protein, ligand, cfg.bs_dist) & (protein.element != "H")
    prot = protein.select(mask)
    if len(prot) and len(ligand):
        sdm = cKDTree(ligand.coords).sparse_distance_matrix(cKDTree(prot.coords), cfg.search_radius,
                                                            output_type="ndarray")
        pl, pp, pd = sdm["i"].astype(np.int64), sdm["j"].astype(np.int64), sdm["v"]
    else:
        pl = pp = np.zeros(0, np.int64)
        pd = np.zeros(0)
    return Site(ligand, prot, np.flatnonzero(mask), pl, pp, pd, cfg)


def profile_tables(protein: AtomTable, ligand: AtomTable, config: ProfilerConfig | None = None) -> InteractionSet:
    """Interactions between typed ``protein`` and ``ligand`` tables (see :func:`profile`)."""
    cfg = config or ProfilerConfig()
    site = build_site(protein, ligand, cfg)
    stack_set, stacks = pistacking.detect(site)
    salt_set, salts = saltbridge.detect(site)
    found = {
        "hbond": hbond.detect(site, salts),
        "hydrophobic": hydrophobic.detect(site, stacks),
        "pistacking": stack_set,
        "saltbridge": salt_set,
        "halogen": halogen.detect(site),
        "pication": pication.detect(site, stacks),
    }
    return InteractionSet.concat([found[k] for k in INTERACTION_TYPES])


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
