"""pocketvox: protein-ligand interaction profiling, voxel grids and 3D CNN interaction hotspots.

Importing the package is cheap: torch, RDKit and numba are imported by the layers that need them.
The data flows one way: ``structure`` -> ``interactions`` -> ``grid`` -> ``adapters`` -> ``volume``
-> ``apps`` -> ``cli``.

The Python API (also for notebooks)::

    import pocketvox as pv
    cpx = pv.load_complex("1eve.pdb", ligand="E20:A:2001")   # Complex (typed atom tables)
    inter = pv.profile(cpx)                                  # InteractionSet; .to_dataframe()
    grid = pv.voxelize(cpx, inter)                           # VoxelGrid: features, labels, spec
    res = pv.predict("1eve.pdb", mode="pocket")              # PredictResult; .hotspots_df(), .write(dir)
"""

__version__ = "0.1.0"

from pocketvox.errors import PocketvoxError  # noqa: E402  (light, no heavy imports)

_LAZY = {
    "load_complex": ("pocketvox.structure.io", "load_complex"),
    "load_receptor": ("pocketvox.structure.io", "load_receptor"),
    "profile": ("pocketvox.interactions.profile", "profile"),
    "voxelize": ("pocketvox.grid.voxelize", "voxelize"),
    "predict": ("pocketvox.apps.predict", "predict"),
    "view_3d": ("pocketvox.apps.notebook", "view_3d"),
    "plot_slices": ("pocketvox.apps.notebook", "plot_slices"),
}

__all__ = ["PocketvoxError", "__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'pocketvox' has no attribute {name!r}")
