"""pocketvox: protein-ligand interaction profiling, voxel grids and 3D CNN interaction hotspots.

Importing the package is cheap: torch, RDKit and numba are imported by the layers that need them.
The data flows one way: ``structure`` -> ``interactions`` -> ``grid`` -> ``adapters`` -> ``volume``
-> ``apps`` -> ``cli``.
"""

__version__ = "0.1.0"

from pocketvox.errors import PocketvoxError  # noqa: E402  (light, no heavy imports)

__all__ = ["PocketvoxError", "__version__"]
