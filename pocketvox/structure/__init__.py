"""Reading complexes into typed, columnar atom tables (gemmi for macromolecules, RDKit for ligands)."""

from pocketvox.structure.atoms import AtomTable, Complex

__all__ = ["AtomTable", "Complex", "load_complex"]


def load_complex(*args, **kwargs):
    """See :func:`pocketvox.structure.io.load_complex`."""
    from pocketvox.structure.io import load_complex as _load

    return _load(*args, **kwargs)
