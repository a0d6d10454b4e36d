"""Geometric criteria of the profiler, as one frozen dataclass.

Defaults are PLIP's (Salentin et al., Nucleic Acids Res. 2015, 43:W443; Adasme et al., Nucleic Acids
Res. 2021, 49:W530), as set in PLIP 3.0.1's ``plip/basic/config.py`` and recorded in
``shared/reference/posebusters_plip.json`` (``meta.options``). Distances in Å, angles in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProfilerConfig:
    """Criteria for every interaction family (override any field: ``ProfilerConfig(hbond_dist_max=3.5)``).

    Attributes
    ----------
    min_dist : Å, pairs closer than this are ignored (PLIP MIN_DIST 0.5)
    hydroph_dist_max : Å, carbon-carbon distance for hydrophobic contacts (HYDROPH_DIST_MAX 4.0)
    hbond_dist_max : Å, donor-acceptor heavy-atom distance (HBOND_DIST_MAX 4.1)
    hbond_don_angle_min : degrees, minimum D-H...A angle at the hydrogen (HBOND_DON_ANGLE_MIN 100)
    hbond_hydrogen_model : how hydrogens are modelled (inputs are heavy-atom only): 'openbabel' places
        them where Open Babel's ``AddPolarHydrogens`` (PLIP's protonation) does, anti to a neighbour's
        neighbour (:mod:`pocketvox.interactions.hydrogens`); 'staggered' accepts any of Open Babel's
        candidate positions (see ``hbond_min_support``); 'rotor' lets hydroxyl/amine hydrogens rotate to
        their best position on the tetrahedral cone; see docs/interactions.md
    hbond_min_support : 'staggered' model only: fraction of the candidate hydrogen positions that must
        pass the angle (0.3: any one of three)
    pistack_dist_max : Å, ring centroid distance (PISTACK_DIST_MAX 5.5)
    pistack_ang_dev : degrees, allowed deviation from 0° (parallel) or 90° (T-shaped) (PISTACK_ANG_DEV 30)
    pistack_offset_max : Å, lateral offset of the projected ring centres (PISTACK_OFFSET_MAX 2.0)
    pication_dist_max : Å, ring centroid to charge centre (PICATION_DIST_MAX 6.0)
    pication_amine_angle_max : degrees, max angle between ring normal and a tertiary amine's plane
        normal (PLIP hard-codes 30)
    saltbridge_dist_max : Å, charge centre distance (SALTBRIDGE_DIST_MAX 5.5)
    halogen_dist_max : Å, halogen-acceptor distance (HALOGEN_DIST_MAX 4.0)
    halogen_acc_angle : degrees, ideal Y-A...X angle at the acceptor (HALOGEN_ACC_ANGLE 120)
    halogen_don_angle : degrees, ideal C-X...A angle at the halogen (HALOGEN_DON_ANGLE 165)
    halogen_angle_dev : degrees, allowed deviation of both halogen angles (HALOGEN_ANGLE_DEV 30)
    bs_dist : Å, protein atoms this close to any ligand atom form the binding site (BS_DIST 7.5)
    """

    min_dist: float = 0.5
    hydroph_dist_max: float = 4.0
    hbond_dist_max: float = 4.1
    hbond_don_angle_min: float = 100.0
    hbond_hydrogen_model: str = "openbabel"
    hbond_min_support: float = 0.3
    pistack_dist_max: float = 5.5
    pistack_ang_dev: float = 30.0
    pistack_offset_max: float = 2.0
    pication_dist_max: float = 6.0
    pication_amine_angle_max: float = 30.0
    saltbridge_dist_max: float = 5.5
    halogen_dist_max: float = 4.0
    halogen_acc_angle: float = 120.0
    halogen_don_angle: float = 165.0
    halogen_angle_dev: float = 30.0
    bs_dist: float = 7.5

    def __post_init__(self):
        if self.hbond_hydrogen_model not in ("openbabel", "rotor", "staggered"):
            raise ValueError("hbond_hydrogen_model must be 'openbabel', 'rotor' or 'staggered', "
                             f"not {self.hbond_hydrogen_model!r}")
        for name in ("hydroph_dist_max", "hbond_dist_max", "pistack_dist_max", "pication_dist_max",
                     "saltbridge_dist_max", "halogen_dist_max", "bs_dist"):
            if getattr(self, name) <= self.min_dist:
                raise ValueError(f"{name} must exceed min_dist ({self.min_dist} Å)")

    @property
    def search_radius(self) -> float:
        """Å: the largest atom-atom cutoff, used for the one KD-tree pair search."""
        return max(self.hydroph_dist_max, self.hbond_dist_max, self.halogen_dist_max)
