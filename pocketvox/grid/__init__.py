"""pocketvox.grid: grid geometry, input channels, density kernels (numba CPU, torch CUDA), interaction
labels, augmentation and CCP4 maps.

Names are imported lazily so that ``import pocketvox.grid`` loads neither numba nor torch::

    from pocketvox.grid import GridSpec, voxelize, describe_channels
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "GridSpec": "spec",
    "DEFAULT_SIZE": "spec",
    "DEFAULT_RESOLUTION": "spec",
    "ATOM_KINDS": "channels",
    "ChannelDef": "channels",
    "DensityParams": "channels",
    "TypedAtoms": "channels",
    "channel_defs": "channels",
    "channel_names": "channels",
    "describe_channels": "channels",
    "type_atoms": "channels",
    "element_radii": "channels",
    "DEFAULT_LABEL_CLASSES": "labels",
    "ALL_LABEL_CLASSES": "labels",
    "LABEL_CLASS_DOC": "labels",
    "LabelParams": "labels",
    "label_arrays": "labels",
    "label_grid": "labels",
    "RigidTransform": "augment",
    "random_rotation": "augment",
    "random_translation": "augment",
    "grid_density": "kernels",
    "density_integral": "kernels",
    "grid_density_torch": "torch_kernels",
    "VoxelGrid": "voxelize",
    "voxelize": "voxelize",
    "voxelize_arrays": "voxelize",
    "write_ccp4": "ccp4",
    "read_ccp4": "ccp4",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'pocketvox.grid' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pocketvox.grid.{mod}"), name)
