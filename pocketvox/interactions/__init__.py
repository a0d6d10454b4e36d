"""Non-covalent interaction detection (PLIP's criteria, vectorised)."""

from pocketvox.interactions.result import INTERACTION_TYPES, InteractionSet

__all__ = ["INTERACTION_TYPES", "InteractionSet", "profile"]


def profile(*args, **kwargs):
    """See :func:`pocketvox.interactions.profile.profile`."""
    from pocketvox.interactions.profile import profile as _profile

    return _profile(*args, **kwargs)
