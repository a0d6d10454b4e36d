"""The profiler's output: an :class:`InteractionSet`, one row per detected interaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

#: Interaction classes in a fixed order (label channels and reports use this order).
INTERACTION_TYPES = ("hbond", "hydrophobic", "pistacking", "saltbridge", "halogen", "pication")


@dataclass(frozen=True)
class InteractionSet:
    """Interactions between one ligand and its receptor, column by column (K rows).

    Attributes
    ----------
    type : (K,) str, one of :data:`INTERACTION_TYPES`
    subtype : (K,) str, e.g. 'parallel' / 't-shaped' (pistacking), 'ligand_donor' / 'protein_donor'
        (hbond), 'ligand_positive' / 'protein_positive' (saltbridge, pication); '' otherwise
    distance : (K,) float64, Å (the criterion's distance: donor-acceptor, centroid-centroid, ...)
    angle : (K,) float64, degrees (hbond donor angle, ring-plane angle, halogen donor angle; nan if none)
    offset : (K,) float64, Å (pistacking / pication lateral offset; nan if none)
    ligand_point, protein_point : (K, 3) float64, Å: the ligand-side and protein-side interaction
        points (atom, ring centroid or charge centre)
    protein_is_donor : (K,) bool (hbond; False for other types)
    res_chain, res_name, res_icode : (K,) str; res_num : (K,) int32 — the protein residue
    ligand_atoms : tuple of K tuples of int, ligand row indices taking part
    protein_atoms : tuple of K tuples of int, protein row indices taking part
    """

    type: np.ndarray
    subtype: np.ndarray
    distance: np.ndarray
    angle: np.ndarray
    offset: np.ndarray
    ligand_point: np.ndarray
    protein_point: np.ndarray
    protein_is_donor: np.ndarray
    res_chain: np.ndarray
    res_num: np.ndarray
    res_icode: np.ndarray
    res_name: np.ndarray
    ligand_atoms: tuple = field(default_factory=tuple)
    protein_atoms: tuple = field(default_factory=tuple)

    def __len__(self) -> int:
        return int(self.type.shape[0])

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={int((self.type == t).sum())}" for t in INTERACTION_TYPES)
        return f"InteractionSet({len(self)} interactions: {counts})"

    def of_type(self, kind: str) -> InteractionSet:
        """Rows of one interaction type."""
        return self.take(np.flatnonzero(self.type == kind))

    def take(self, idx: np.ndarray) -> InteractionSet:
        idx = np.asarray(idx, np.int64)
        kw = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            kw[name] = tuple(v[i] for i in idx) if isinstance(v, tuple) else v[idx]
        return InteractionSet(**kw)

    def residues(self, kind: str | None = None) -> set[tuple[str, int, str]]:
        """Set of (chain, number, icode) residues taking part (optionally of one type)."""
        m = np.ones(len(self), bool) if kind is None else self.type == kind
        return {(str(c), int(n), str(i)) for c, n, i in zip(self.res_chain[m], self.res_num[m], self.res_icode[m])}

    @staticmethod
    def concat(parts: list[InteractionSet]) -> InteractionSet:
        parts = [p for p in parts if p is not None]
        if not parts:
            return InteractionSet.empty()
        kw = {}
        for name in InteractionSet.__dataclass_fields__:
            vals = [getattr(p, name) for p in parts]
            kw[name] = tuple(x for v in vals for x in v) if isinstance(vals[0], tuple) else np.concatenate(vals)
        return InteractionSet(**kw)

    @staticmethod
    def empty() -> InteractionSet:
        return InteractionSet.build([])

    @staticmethod
    def build(rows: list[dict]) -> InteractionSet:
        """From a list of per-row dicts (used by detectors after their vectorised tests)."""
        k = len(rows)

        def col(name, dtype, default):
            return np.array([r.get(name, default) for r in rows], dtype=dtype) if k else np.zeros(0, dtype)

        def pts(name):
            return np.array([r[name] for r in rows], np.float64).reshape(k, 3) if k else np.zeros((0, 3))

        return InteractionSet(
            type=col("type", "<U12", ""),
            subtype=col("subtype", "<U16", ""),
            distance=col("distance", np.float64, np.nan),
            angle=col("angle", np.float64, np.nan),
            offset=col("offset", np.float64, np.nan),
            ligand_point=pts("ligand_point"),
            protein_point=pts("protein_point"),
            protein_is_donor=col("protein_is_donor", bool, False),
            res_chain=col("res_chain", "<U4", ""),
            res_num=col("res_num", np.int32, 0),
            res_icode=col("res_icode", "<U1", ""),
            res_name=col("res_name", "<U5", ""),
            ligand_atoms=tuple(tuple(int(a) for a in r.get("ligand_atoms", ())) for r in rows),
            protein_atoms=tuple(tuple(int(a) for a in r.get("protein_atoms", ())) for r in rows),
        )

    # ------------------------------------------------------------------ export
    def to_records(self) -> list[dict]:
        """JSON-ready dicts in the documented CLI schema."""
        out = []
        for i in range(len(self)):
            r = {
                "type": str(self.type[i]),
                "residue": {
                    "chain": str(self.res_chain[i]),
                    "number": int(self.res_num[i]),
                    "icode": str(self.res_icode[i]),
                    "name": str(self.res_name[i]),
                },
                "distance": round(float(self.distance[i]), 3),
                "ligand_point": [round(float(x), 3) for x in self.ligand_point[i]],
                "protein_point": [round(float(x), 3) for x in self.protein_point[i]],
                "ligand_atoms": list(self.ligand_atoms[i]),
                "protein_atoms": list(self.protein_atoms[i]),
            }
            if self.subtype[i]:
                r["subtype"] = str(self.subtype[i])
            if self.type[i] == "hbond":
                r["protein_is_donor"] = bool(self.protein_is_donor[i])
            if not np.isnan(self.angle[i]):
                r["angle"] = round(float(self.angle[i]), 2)
            if not np.isnan(self.offset[i]):
                r["offset"] = round(float(self.offset[i]), 3)
            out.append(r)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_records())

    def to_dataframe(self):
        """One row per interaction as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            {
                "type": self.type,
                "subtype": self.subtype,
                "chain": self.res_chain,
                "resnum": self.res_num,
                "icode": self.res_icode,
                "resname": self.res_name,
                "distance": self.distance,
                "angle": self.angle,
                "offset": self.offset,
                "protein_is_donor": self.protein_is_donor,
                "lig_x": self.ligand_point[:, 0],
                "lig_y": self.ligand_point[:, 1],
                "lig_z": self.ligand_point[:, 2],
                "prot_x": self.protein_point[:, 0],
                "prot_y": self.protein_point[:, 1],
                "prot_z": self.protein_point[:, 2],
                "ligand_atoms": [list(a) for a in self.ligand_atoms],
                "protein_atoms": [list(a) for a in self.protein_atoms],
            }
        )
