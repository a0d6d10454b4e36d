"""Input channels as data: which atoms feed which density channel, and how big each atom is.

The eight atom types follow moleculekit's voxel descriptors (Jiménez et al., DeepSite, Bioinformatics
2017): hydrophobic, aromatic, H-bond donor, H-bond acceptor, positive ionizable, negative ionizable,
metal, occupancy. They are read from the :class:`~pocketvox.structure.atoms.AtomTable` flags that the
interaction profiler also types from, so "donor" in a grid is the chemistry's donor (the profiler
additionally follows Open Babel's protonation, as PLIP does, for His tautomers, neutralised Asp/Glu and
given hydrogens: :func:`pocketvox.interactions.hydrogens.effective_donors`). The protein and the ligand
each get the same eight channels (16 in all, protein first).

Hydrogens are never gridded and do not change the typed flags, so adding or stripping hydrogens leaves
every channel unchanged.

Atomic radii are Bondi's van der Waals radii (A. Bondi, J. Phys. Chem. 68, 441, 1964), the table
moleculekit uses; metal ions, which Bondi's set leaves out or gives as neutral-atom radii far larger
than the ions in a protein, take libmolgrid's XS metal radius 1.2 Å (``Met_D`` in gnina's atom_constants).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChannelDef:
    """One atom-type channel: ``name`` (e.g. 'protein_hbond_donor'), the molecule it reads
    ('protein' or 'ligand'), the atom ``kind`` and a one-line ``description``."""

    name: str
    molecule: str
    kind: str
    description: str


#: The atom kinds, in channel order, with their meaning (typing from AtomTable flags).
ATOM_KINDS: tuple[tuple[str, str], ...] = (
    ("hydrophobic", "carbon/halogen atoms the profiler counts as hydrophobic (AtomTable.hydrophobic)"),
    ("aromatic", "members of aromatic rings (AtomTable.aromatic)"),
    ("hbond_donor", "heavy atoms carrying a polar hydrogen (AtomTable.donor)"),
    ("hbond_acceptor", "H-bond acceptor heavy atoms (AtomTable.acceptor)"),
    ("positive", "atoms with positive charge or in a positive charged group (charge > 0, group_sign +1)"),
    ("negative", "atoms with negative charge or in a negative charged group (charge < 0, group_sign -1)"),
    ("metal", "metal ions (AtomTable.metal)"),
    ("occupancy", "every heavy atom (excluded volume / shape)"),
)

KIND_NAMES: tuple[str, ...] = tuple(k for k, _ in ATOM_KINDS)
MOLECULES: tuple[str, ...] = ("protein", "ligand")


def channel_defs(include_ligand: bool = True) -> tuple[ChannelDef, ...]:
    """All input channels in grid order: the protein's eight, then (optionally) the ligand's eight."""
    mols = MOLECULES if include_ligand else MOLECULES[:1]
    return tuple(
        ChannelDef(f"{m}_{k}", m, k, f"{m}: {d}") for m in mols for k, d in ATOM_KINDS
    )


def channel_names(include_ligand: bool = True) -> tuple[str, ...]:
    return tuple(c.name for c in channel_defs(include_ligand))


# ---------------------------------------------------------------------------- radii
#: Bondi (1964) van der Waals radii, Å, by upper-case element symbol.
BONDI_RADII: dict[str, float] = {
    "H": 1.20, "C": 1.70, "N": 1.55, "O": 1.52, "F": 1.47, "P": 1.80, "S": 1.80, "CL": 1.75,
    "BR": 1.85, "I": 1.98, "SE": 1.90, "B": 1.92, "SI": 2.10, "AS": 1.85,
}
#: Metal ions: libmolgrid/gnina XS radius for metal donors (``Met_D``), Å.
METAL_RADIUS = 1.2
#: Any other element (rare in PDB ligands): the carbon radius, Å.
DEFAULT_RADIUS = 1.70


@dataclass(frozen=True)
class DensityParams:
    """Shape of the smooth atom density (libmolgrid's, Ragoza et al., J. Chem. Inf. Model. 2017).

    For an atom of radius ``r`` (Å, scaled by ``radius_scale``) at distance ``d`` (Å) from a point,
    with ``x = d / r``::

        rho(x) = exp(-2 x²)                    for x <= 1
        rho(x) = e^-2 (2 x - 3)²               for 1 < x < 1.5     (quadratic tail, C¹ at x = 1)
        rho(x) = 0                             for x >= 1.5

    The integral over space of one isolated atom's density is ``DENSITY_INTEGRAL * r³`` Å³
    (≈ 0.9535 r³; see :func:`pocketvox.grid.kernels.density_integral`), i.e. the sum of its voxels
    is that value divided by ``resolution³``.
    """

    radius_scale: float = 1.0  # multiplies every radius (libmolgrid's radius_scale)
    binary: bool = False  # 1 inside radius (x < 1) instead of the smooth density

    #: cutoff in units of the radius (libmolgrid's final_radius_multiple with Gaussian multiple 1)
    cutoff_multiple: float = 1.5


def element_radii(element: np.ndarray, metal: np.ndarray | None = None) -> np.ndarray:
    """(N,) str elements -> (N,) float32 radii, Å (metal flag overrides the element table)."""
    el = np.char.upper(np.asarray(element).astype(str))
    uniq, inv = np.unique(el, return_inverse=True)
    table = np.array([BONDI_RADII.get(u, DEFAULT_RADIUS) for u in uniq], np.float32)
    r = table[inv.reshape(-1)] if len(uniq) else np.zeros(0, np.float32)
    if metal is not None and len(r):
        r = np.where(np.asarray(metal, bool), np.float32(METAL_RADIUS), r)
    return r.astype(np.float32)


def atom_kind_matrix(atoms) -> np.ndarray:
    """(N, 8) bool: membership of each atom of an AtomTable in the eight :data:`ATOM_KINDS`.

    Hydrogen rows are all false (hydrogens are not gridded).
    """
    n = len(atoms)
    heavy = np.asarray(atoms.element).astype(str) != "H"
    pos = atoms.charge > 0
    neg = atoms.charge < 0
    if len(atoms.groups):
        members = atoms.groups
        valid = members >= 0
        for sign, target in ((1, pos), (-1, neg)):
            sel = members[(atoms.group_sign == sign)[:, None] & valid]
            target[sel] = True
    m = np.zeros((n, len(ATOM_KINDS)), bool)
    m[:, 0] = atoms.hydrophobic
    m[:, 1] = atoms.aromatic
    m[:, 2] = atoms.donor
    m[:, 3] = atoms.acceptor
    m[:, 4] = pos
    m[:, 5] = neg
    m[:, 6] = atoms.metal
    m[:, 7] = True
    m &= heavy[:, None]
    return m


@dataclass(frozen=True)
class TypedAtoms:
    """What the density kernels need, and what a dataset cache stores per complex.

    coords : (N, 3) float32 Å
    radii : (N,) float32 Å
    types : (N, C) bool — channel membership (an atom may feed several channels)
    channel_names : (C,) names
    """

    coords: np.ndarray
    radii: np.ndarray
    types: np.ndarray
    channel_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.coords.shape[0])


def type_atoms(protein, ligand=None, include_ligand: bool = True) -> TypedAtoms:
    """Protein (and ligand) AtomTables -> :class:`TypedAtoms` over :func:`channel_defs` channels.

    Hydrogens are dropped. The ligand's atoms go to the ligand channels only.
    """
    nk = len(ATOM_KINDS)
    parts = [(protein, 0)]
    if include_ligand and ligand is not None:
        parts.append((ligand, 1))
    n_ch = nk * (2 if include_ligand else 1)
    coords, radii, types = [], [], []
    for atoms, slot in parts:
        if len(atoms) == 0:
            continue
        heavy = np.asarray(atoms.element).astype(str) != "H"
        k = atom_kind_matrix(atoms)[heavy]
        t = np.zeros((int(heavy.sum()), n_ch), bool)
        t[:, slot * nk:(slot + 1) * nk] = k
        coords.append(atoms.coords[heavy])
        radii.append(element_radii(atoms.element[heavy], atoms.metal[heavy]))
        types.append(t)
    if not coords:
        return TypedAtoms(np.zeros((0, 3), np.float32), np.zeros(0, np.float32), np.zeros((0, n_ch), bool),
                          channel_names(include_ligand))
    return TypedAtoms(
        np.concatenate(coords).astype(np.float32),
        np.concatenate(radii).astype(np.float32),
        np.concatenate(types),
        channel_names(include_ligand),
    )


def describe_channels(include_ligand: bool = True) -> list[dict]:
    """Channel index, name and meaning, for ``pocketvox channels`` and notebooks."""
    return [
        {"index": i, "name": c.name, "molecule": c.molecule, "kind": c.kind, "description": c.description}
        for i, c in enumerate(channel_defs(include_ligand))
    ]
