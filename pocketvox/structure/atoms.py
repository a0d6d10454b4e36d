"""Columnar atom model shared by every layer downstream of ``structure``.

An :class:`AtomTable` is a set of parallel NumPy arrays (one row per atom) plus the two ragged
groupings the profiler and the gridder need: aromatic rings and charged groups. It holds no
reference to gemmi or RDKit objects, so it pickles cheaply and crosses process boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

#: Maximum ring size stored (larger aromatic macrocycles are split into SSSR rings first).
MAX_RING = 8
#: Maximum number of atoms describing one charged group (e.g. guanidinium NE, NH1, NH2).
MAX_GROUP = 8


@dataclass(frozen=True)
class AtomTable:
    """Atoms of one molecule or macromolecule, column by column.

    All per-atom arrays have length ``N``. Coordinates are in Å in the frame of the input file.

    Attributes
    ----------
    coords : (N, 3) float64, Å
    element : (N,) str, upper case ('C', 'N', 'ZN', 'H')
    name : (N,) str, atom name ('CA', 'NZ', 'C12')
    res_name, chain, icode : (N,) str
    res_num : (N,) int32
    serial : (N,) int32, the input's atom serial (or 1-based index)
    hetero : (N,) bool, HETATM record (or ligand read from a molecule file)
    donor, acceptor, hydrophobic, aromatic, metal, halogen : (N,) bool, atom-type flags
    charge : (N,) int8, formal charge as typed (+1 / -1 for groups a profiler counts as charged)
    bonds : (M, 2) int32, covalent bonds between rows (i < j), heavy atoms and hydrogens
    bond_order : (M,) float32 (1, 1.5 aromatic, 2, 3); 1 where unknown
    rings : (R, MAX_RING) int32, aromatic ring members padded with -1
    groups : (G, MAX_GROUP) int32, charged group members padded with -1
    group_sign : (G,) int8, +1 positive, -1 negative
    group_kind : (G,) str, functional group name ('carboxylate', 'amine', 'guanidine', ...)
    h_coords : (H, 3) float64, Å, hydrogens given by the input (deposited or modelled ones); the rows
        above are heavy atoms only, so these ride along for the profiler's D-H...A angles
    h_parent : (H,) int32, the row each hydrogen is bonded to
    """

    coords: np.ndarray
    element: np.ndarray
    name: np.ndarray
    res_name: np.ndarray
    res_num: np.ndarray
    icode: np.ndarray
    chain: np.ndarray
    serial: np.ndarray
    hetero: np.ndarray
    donor: np.ndarray
    acceptor: np.ndarray
    hydrophobic: np.ndarray
    aromatic: np.ndarray
    metal: np.ndarray
    halogen: np.ndarray
    charge: np.ndarray
    bonds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))
    bond_order: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    rings: np.ndarray = field(default_factory=lambda: np.zeros((0, MAX_RING), np.int32))
    groups: np.ndarray = field(default_factory=lambda: np.zeros((0, MAX_GROUP), np.int32))
    group_sign: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    group_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U16"))
    h_coords: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    h_parent: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return int(self.coords.shape[0])

    def __repr__(self) -> str:
        n_res = len(np.unique(self.residue_keys())) if len(self) else 0
        return (
            f"AtomTable({len(self)} atoms, {n_res} residues, {len(self.rings)} aromatic rings, "
            f"{len(self.groups)} charged groups)"
        )

    @property
    def heavy(self) -> np.ndarray:
        """(N,) bool: not hydrogen."""
        return self.element != "H"

    def residue_keys(self) -> np.ndarray:
        """(N,) str: 'CHAIN:NUM[ICODE]:RES' per atom, a stable residue identity."""
        return np.char.add(
            np.char.add(np.char.add(self.chain.astype(str), ":"), np.char.add(self.res_num.astype(str), self.icode)),
            np.char.add(":", self.res_name),
        )

    def neighbors(self) -> list[np.ndarray]:
        """Bonded partners of every atom, a list of index arrays (built once, O(M))."""
        n = len(self)
        if len(self.bonds) == 0:
            return [np.zeros(0, np.int64) for _ in range(n)]
        a = np.concatenate([self.bonds[:, 0], self.bonds[:, 1]])
        b = np.concatenate([self.bonds[:, 1], self.bonds[:, 0]])
        order = np.argsort(a, kind="stable")
        a, b = a[order], b[order]
        splits = np.searchsorted(a, np.arange(1, n))
        return np.split(b.astype(np.int64), splits)

    def adjacency_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """Bond graph as CSR: ``(indptr (N+1,), indices (2M,))`` for vectorised neighbour lookups."""
        n = len(self)
        a = np.concatenate([self.bonds[:, 0], self.bonds[:, 1]]).astype(np.int64)
        b = np.concatenate([self.bonds[:, 1], self.bonds[:, 0]]).astype(np.int64)
        order = np.lexsort((b, a))
        a, b = a[order], b[order]
        indptr = np.zeros(n + 1, np.int64)
        np.add.at(indptr, a + 1, 1)
        return np.cumsum(indptr), b

    def ring_centers(self) -> np.ndarray:
        """(R, 3) Å: centroid of each aromatic ring."""
        return _group_centers(self.coords, self.rings)

    def ring_normals(self) -> np.ndarray:
        """(R, 3): unit normal of each ring's best plane (smallest singular vector)."""
        if len(self.rings) == 0:
            return np.zeros((0, 3))
        idx = np.where(self.rings >= 0, self.rings, 0)
        mask = (self.rings >= 0)[..., None]
        pts = self.coords[idx]
        c = (pts * mask).sum(1) / mask.sum(1)
        d = (pts - c[:, None]) * mask
        cov = np.einsum("rki,rkj->rij", d, d)
        _, vecs = np.linalg.eigh(cov)
        return vecs[:, :, 0]

    def group_centers(self) -> np.ndarray:
        """(G, 3) Å: centre of each charged group."""
        return _group_centers(self.coords, self.groups)

    def select(self, mask: np.ndarray) -> AtomTable:
        """A new table with the rows where ``mask`` is true; bonds, rings and groups are re-indexed
        and dropped when they lose a member."""
        mask = np.asarray(mask, bool)
        remap = np.full(len(self) + 1, -1, np.int32)  # extra slot maps padding (-1) to -1
        remap[:-1][mask] = np.arange(int(mask.sum()), dtype=np.int32)
        cols = {f.name: getattr(self, f.name)[mask] for f in fields(self) if f.name in _PER_ATOM}
        b = remap[self.bonds] if len(self.bonds) else self.bonds
        keep_b = (b >= 0).all(1) if len(b) else np.zeros(0, bool)

        def _reindex(arr):
            if len(arr) == 0:
                return arr, np.zeros(0, bool)
            r = remap[arr]
            ok = ((r >= 0) | (arr < 0)).all(1)
            return r[ok], ok

        rings, _ = _reindex(self.rings)
        groups, keep_g = _reindex(self.groups)
        hp = remap[self.h_parent]
        keep_h = hp >= 0
        return AtomTable(
            **cols,
            bonds=b[keep_b].astype(np.int32),
            bond_order=self.bond_order[keep_b],
            rings=rings.astype(np.int32),
            groups=groups.astype(np.int32),
            group_sign=self.group_sign[keep_g],
            group_kind=self.group_kind[keep_g],
            h_coords=self.h_coords[keep_h],
            h_parent=hp[keep_h].astype(np.int32),
        )

    def with_coords(self, coords: np.ndarray) -> AtomTable:
        """Same atoms, new coordinates (e.g. another docked pose); given hydrogens, which would not
        follow, are dropped."""
        return replace(self, coords=np.asarray(coords, np.float64), h_coords=np.zeros((0, 3)),
                       h_parent=np.zeros(0, np.int32))

    def to_dataframe(self):
        """One row per atom as a pandas DataFrame (for notebooks)."""
        import pandas as pd

        d = {f: getattr(self, f) for f in _PER_ATOM if f != "coords"}
        d = {"x": self.coords[:, 0], "y": self.coords[:, 1], "z": self.coords[:, 2], **d}
        return pd.DataFrame(d)

    @staticmethod
    def empty() -> AtomTable:
        return AtomTable.from_columns(coords=np.zeros((0, 3)), element=np.zeros(0, "<U2"))

    @staticmethod
    def from_columns(**cols) -> AtomTable:
        """Build a table filling absent per-atom columns with neutral defaults."""
        coords = np.asarray(cols.pop("coords"), np.float64).reshape(-1, 3)
        n = coords.shape[0]
        out = {}
        for k, (dtype, fill) in _DEFAULTS.items():
            if k in cols:
                out[k] = np.asarray(cols.pop(k), dtype=dtype)
                if out[k].shape[0] != n:
                    raise ValueError(f"column {k} has {out[k].shape[0]} rows, expected {n}")
            elif k == "serial":
                out[k] = np.arange(1, n + 1, dtype=np.int32)
            else:  # defaults built only for the columns not given
                out[k] = np.full(n, fill, dtype)
        for k in ("bonds", "rings", "groups"):
            if k in cols:
                width = {"bonds": 2, "rings": MAX_RING, "groups": MAX_GROUP}[k]
                cols[k] = np.asarray(cols[k], np.int32).reshape(-1, width)
        if "h_coords" in cols:
            cols["h_coords"] = np.asarray(cols["h_coords"], np.float64).reshape(-1, 3)
            cols["h_parent"] = np.asarray(cols.get("h_parent", ()), np.int32).reshape(-1)
        return AtomTable(coords=coords, **out, **cols)


#: Per-atom columns of :meth:`AtomTable.from_columns`: dtype and neutral default (serial: 1..N).
_DEFAULTS = {
    "element": ("<U2", "C"),
    "name": ("<U4", ""),
    "res_name": ("<U5", "UNL"),
    "res_num": (np.int32, 1),
    "icode": ("<U1", ""),
    "chain": ("<U4", "A"),
    "serial": (np.int32, None),
    "hetero": (bool, False),
    "donor": (bool, False),
    "acceptor": (bool, False),
    "hydrophobic": (bool, False),
    "aromatic": (bool, False),
    "metal": (bool, False),
    "halogen": (bool, False),
    "charge": (np.int8, 0),
}

_PER_ATOM = (
    "coords", "element", "name", "res_name", "res_num", "icode", "chain", "serial", "hetero",
    "donor", "acceptor", "hydrophobic", "aromatic", "metal", "halogen", "charge",
)


def _group_centers(coords: np.ndarray, members: np.ndarray) -> np.ndarray:
    if len(members) == 0:
        return np.zeros((0, 3))
    idx = np.where(members >= 0, members, 0)
    mask = (members >= 0)[..., None]
    return (coords[idx] * mask).sum(1) / mask.sum(1)


def pad_groups(groups: list[list[int]], width: int) -> np.ndarray:
    """Ragged index lists -> (len, width) int32 padded with -1 (longer lists are truncated)."""
    out = np.full((len(groups), width), -1, np.int32)
    for i, g in enumerate(groups):
        g = list(g)[:width]
        out[i, : len(g)] = g
    return out


@dataclass(frozen=True, init=False)
class Complex:
    """A protein (receptor) and one ligand, both typed, in the same frame.

    ``ligand_id`` uses PLIP's notation ``RES:CHAIN:NUM``; ``source`` names the input file(s).
    ``ligand_smiles`` is the ligand's canonical SMILES when RDKit could build it (written on first
    use from ``ligand_mol``, the RDKit molecule, when the reader kept one: profiling never needs it).
    ``notes`` records what the reader had to decide (ligand choice, bond perception).
    """

    protein: AtomTable
    ligand: AtomTable
    ligand_id: str
    source: str
    notes: tuple[str, ...] = ()
    ligand_mol: object = field(default=None, repr=False, compare=False)

    def __init__(self, protein: AtomTable, ligand: AtomTable, ligand_id: str, source: str, ligand_smiles: str = "",
                 notes: tuple[str, ...] = (), ligand_mol=None):
        for k, v in (("protein", protein), ("ligand", ligand), ("ligand_id", ligand_id), ("source", source),
                     ("notes", tuple(notes)), ("ligand_mol", ligand_mol)):
            object.__setattr__(self, k, v)
        if ligand_smiles or ligand_mol is None:
            object.__setattr__(self, "_smiles", ligand_smiles)

    @property
    def ligand_smiles(self) -> str:
        if "_smiles" not in self.__dict__:
            try:
                from rdkit import Chem

                smiles = Chem.MolToSmiles(self.ligand_mol)
            except Exception:  # noqa: BLE001 - an unusual molecule: no SMILES rather than no complex
                smiles = ""
            object.__setattr__(self, "_smiles", smiles)
        return self.__dict__["_smiles"]

    def __repr__(self) -> str:
        return (
            f"Complex({self.source!r}, ligand={self.ligand_id}, protein={len(self.protein)} atoms, "
            f"ligand={len(self.ligand)} atoms)"
        )
