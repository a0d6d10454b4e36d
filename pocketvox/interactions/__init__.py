"""Non-covalent interaction detection (PLIP's criteria, vectorised).

``profile(complex)`` returns an :class:`InteractionSet`; ``ProfilerConfig`` holds the criteria.
Importing this package loads NumPy and SciPy only (no torch, no RDKit).
"""

from pocketvox.interactions.config import ProfilerConfig

# Imported eagerly: the submodule ``profile`` would otherwise shadow the function of the same name.
from pocketvox.interactions.profile import profile, profile_tables  # noqa: E402
from pocketvox.interactions.result import INTERACTION_TYPES, InteractionSet

__all__ = ["INTERACTION_TYPES", "InteractionSet", "ProfilerConfig", "profile", "profile_tables"]
