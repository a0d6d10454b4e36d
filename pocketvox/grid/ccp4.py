"""CCP4/MRC maps (via gemmi) that overlay the structure in PyMOL, ChimeraX, Coot and gemmi.

Placement: the map's unit cell is the box itself (``n * resolution`` Å, 90° angles, P1, sampling
``n``) and the axis order is X, Y, Z (MAPC/MAPR/MAPS = 1, 2, 3). When the grid's origin is an integer
multiple of its spacing (the default for :class:`~pocketvox.grid.spec.GridSpec` constructors, which
snap), the position is carried by the start indices NXSTART/NYSTART/NZSTART alone — the CCP4 way,
read by every program. Otherwise the start indices are 0 and the origin goes in the MRC-2014 ORIGIN
words (50–52), which ChimeraX and PyMOL read but some crystallographic programs ignore.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pocketvox.atomic import atomic_path
from pocketvox.errors import InputFileError


def write_ccp4(path, array: np.ndarray, origin, spacing) -> None:
    """Write ``array`` (X, Y, Z) as a float32 CCP4 map with point [0,0,0] at ``origin`` (3,) Å and
    ``spacing`` (3,) or scalar Å. Atomic: readers see the old file or the complete new one."""
    import gemmi

    a = np.ascontiguousarray(np.asarray(array, np.float32))
    if a.ndim != 3:
        raise ValueError(f"a map needs a 3D array (X, Y, Z), got shape {a.shape}")
    sp = np.broadcast_to(np.asarray(spacing, np.float64), (3,))
    org = np.asarray(origin, np.float64).reshape(3)
    m = gemmi.Ccp4Map()
    m.grid = gemmi.FloatGrid(a)
    m.grid.unit_cell = gemmi.UnitCell(*(a.shape[i] * sp[i] for i in range(3)), 90, 90, 90)
    m.grid.spacegroup = gemmi.find_spacegroup_by_name("P1")
    m.update_ccp4_header()
    start = org / sp
    if np.all(np.abs(start - np.rint(start)) < 1e-4):
        for w, s in zip((5, 6, 7), np.rint(start).astype(int)):
            m.set_header_i32(w, int(s))
    else:
        for w, o in zip((50, 51, 52), org):
            m.set_header_float(w, float(o))
    with atomic_path(path) as tmp:
        m.write_ccp4_map(tmp)


def read_ccp4(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a map -> ``(array (X, Y, Z) float32, origin (3,) Å, spacing (3,) Å)``.

    Handles any MAPC/MAPR/MAPS axis order; origin = start indices × spacing, or the ORIGIN words
    when all start indices are 0. Raises :class:`InputFileError` for missing or malformed files.
    """
    import gemmi

    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: map file not found")
    if p.stat().st_size < 1024:
        raise InputFileError(f"{p}: too short to be a CCP4/MRC map ({p.stat().st_size} bytes)")
    try:
        m = gemmi.read_ccp4_map(str(p), setup=False)
    except Exception as e:  # gemmi raises RuntimeError/ValueError with its own text
        raise InputFileError(f"{p}: not a readable CCP4/MRC map ({e})") from None
    cell = m.grid.unit_cell
    if any(abs(x - 90.0) > 1e-3 for x in (cell.alpha, cell.beta, cell.gamma)):
        raise InputFileError(f"{p}: non-orthogonal map cells are not supported")
    axes = [m.header_i32(w) - 1 for w in (17, 18, 19)]  # file axis -> x/y/z
    if sorted(axes) != [0, 1, 2]:
        raise InputFileError(f"{p}: bad axis order MAPC/MAPR/MAPS = {[a + 1 for a in axes]}")
    arr = np.array(m.grid.array, np.float32, copy=True)  # indexed [col, row, sec]
    perm = [axes.index(i) for i in range(3)]  # x/y/z -> file axis
    arr = np.ascontiguousarray(arr.transpose(perm))
    sampling = np.array([m.header_i32(w) for w in (8, 9, 10)], np.float64)
    spacing = np.array([cell.a, cell.b, cell.c]) / np.where(sampling > 0, sampling, 1)
    start_file = [m.header_i32(w) for w in (5, 6, 7)]
    start = np.array([start_file[perm[i]] for i in range(3)], np.float64)
    if np.any(start != 0):
        origin = start * spacing
    else:
        origin = np.array([m.header_float(w) for w in (50, 51, 52)], np.float64)
    return arr, origin, spacing
