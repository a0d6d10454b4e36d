"""``pocketvox dataset build``: profile a folder of complexes once into one compact HDF5 cache.

Per complex (group ``/complexes/<ID>``) the cache stores what training needs to grid on the fly:

- ``coords`` (N, 3) float32 Å, ``radii`` (N,) float32 Å, ``types`` (N,) uint16 bit mask over the 16
  channels of :func:`pocketvox.grid.channel_names` (protein kinds bits 0–7, ligand kinds 8–15) — the
  heavy atoms of the protein within ``POCKET_RADIUS`` Å of the ligand centre, and the ligand;
- ``label_points`` (M, 3) float32 Å and ``label_classes`` (M,) uint16 bit mask over
  :data:`pocketvox.grid.ALL_LABEL_CLASSES` — the interactions' ligand-side points;
- ``lig_rings`` (R, 3) Å ligand aromatic ring centroids; ``prot_rings`` (S, 3) and
  ``prot_ring_normals`` (S, 3) protein ring centroids and unit normals (for the baselines);
- attributes: ``center`` (3,) Å (grid centre: the ligand's bounding-box centre snapped to the lattice),
  ``ligand_id``, ``source``, ``n_interactions``.

Root attributes: ``channel_names``, ``label_classes``, ``split`` (JSON: train/val/test id lists and
the method), ``failed`` (JSON list of [id, reason]), ``version``.

Split: the source's ``split.json`` when present (PoseBusters), otherwise sequence-identity clusters
(:func:`sequence_split`), saved in the cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pocketvox.errors import InputFileError

#: Å around the grid centre within which protein atoms are stored: half the 24 Å box's diagonal
#: (20.8 Å) + the 2 Å augmentation shift + the 1.5× radius density cutoff (~3 Å) ≈ 26 Å.
POCKET_RADIUS = 26.0
CACHE_VERSION = 1


@dataclass(frozen=True)
class Source:
    """One complex to read: ``id``, a structure ``path`` and an optional ``ligand_file``."""

    id: str
    path: Path
    ligand_file: Path | None = None


_STRUCT_EXT = (".pdb", ".cif", ".mmcif", ".ent", ".pdb.gz", ".cif.gz", ".ent.gz")


def discover(src_dir) -> list[Source]:
    """Complexes in ``src_dir``: ``<ID>/<ID>_protein.pdb`` + ``<ID>_ligand.sdf`` folders (PoseBusters
    layout) and whole PDB/mmCIF entries (ligand found automatically) at the top level."""
    src = Path(src_dir)
    if not src.is_dir():
        raise InputFileError(f"{src}: not a directory")
    out: list[Source] = []
    for p in sorted(src.iterdir()):
        if p.is_dir():
            prot = sorted(p.glob("*_protein.pdb")) + sorted(p.glob("*_protein.cif"))
            ligs = sorted(p.glob("*_ligand.sdf")) + sorted(p.glob("*_ligand.mol2"))
            if prot and ligs:
                out.append(Source(p.name, prot[0], ligs[0]))
            else:
                entries = [q for q in sorted(p.iterdir()) if q.name.lower().endswith(_STRUCT_EXT)]
                if entries:
                    out.append(Source(p.name, entries[0]))
        elif p.name.lower().endswith(_STRUCT_EXT):
            name = p.name.split(".")[0]
            out.append(Source(name, p))
    return out


def _bits(mask: np.ndarray) -> np.ndarray:
    """(N, B<=16) bool -> (N,) uint16."""
    w = (1 << np.arange(mask.shape[1], dtype=np.uint32)).astype(np.uint32)
    return (mask.astype(np.uint32) * w).sum(1).astype(np.uint16)


def unbits(bits: np.ndarray, n: int) -> np.ndarray:
    """(N,) uint16 -> (N, n) bool."""
    return ((np.asarray(bits, np.uint32)[:, None] >> np.arange(n, dtype=np.uint32)) & 1).astype(bool)


def process_complex(src: Source, size: float = 24.0, resolution: float = 1.0) -> dict:
    """Read, type, profile one complex -> the arrays stored in the cache (see module docstring)."""
    from pocketvox.grid import ALL_LABEL_CLASSES, GridSpec, label_arrays, type_atoms
    from pocketvox.interactions import profile
    from pocketvox.structure import load_complex

    cx = load_complex(src.path, ligand_file=src.ligand_file)
    lig_heavy = cx.ligand.coords[cx.ligand.heavy]
    if len(lig_heavy) == 0:
        raise InputFileError(f"{src.path}: ligand has no heavy atoms")
    inter = profile(cx)
    spec = GridSpec.around_ligand(lig_heavy, size=size, resolution=resolution)
    center = spec.center_array
    near = np.linalg.norm(cx.protein.coords - center, axis=1) <= POCKET_RADIUS
    prot = cx.protein.select(near)
    typed = type_atoms(prot, cx.ligand, include_ligand=True)
    pts, memb = label_arrays(inter, ALL_LABEL_CLASSES)
    pr = prot.ring_centers()
    return {
        "coords": typed.coords.astype(np.float32),
        "radii": typed.radii.astype(np.float32),
        "types": _bits(typed.types),
        "label_points": pts.astype(np.float32),
        "label_classes": _bits(memb) if len(memb) else np.zeros(0, np.uint16),
        "lig_rings": cx.ligand.ring_centers().astype(np.float32),
        "prot_rings": pr.astype(np.float32),
        "prot_ring_normals": prot.ring_normals().astype(np.float32),
        "center": center,
        "ligand_id": cx.ligand_id,
        "source": str(src.path) + (f"+{src.ligand_file}" if src.ligand_file else ""),
        "n_interactions": int(len(inter)),
        "chains": _chain_sequences(cx.protein),
    }


_THREE_TO_ONE = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E", "GLY": "G",
    "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F", "PRO": "P", "SER": "S",
    "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V", "MSE": "M", "SEC": "U", "PYL": "O",
}


def _chain_sequences(protein) -> dict[str, str]:
    """One-letter sequence per chain from CA atoms (order of the file)."""
    ca = protein.name == "CA"
    chains = protein.chain[ca]
    res = protein.res_name[ca]
    out: dict[str, str] = {}
    for ch in dict.fromkeys(chains.tolist()):
        seq = "".join(_THREE_TO_ONE.get(r, "X") for r in res[chains == ch])
        if seq:
            out[str(ch)] = seq
    return out


def sequence_split(chains: dict[str, dict[str, str]], seed: int = 42, identity: float = 0.30,
                   min_length: int = 50, fractions=(0.7, 0.1, 0.2)) -> dict:
    """Train/val/test lists from single-linkage clusters of sequence identity.

    Two complexes are linked when a pair of their chains (both ≥ ``min_length`` residues) exceeds
    ``identity`` (identical aligned positions / length of the shorter chain; global alignment,
    BLOSUM62, gap open −12, extend −2, end gaps free — the method of the shared PoseBusters split).
    Clusters are shuffled with ``seed``, sorted by size (largest first, stable) and each goes to the
    split furthest below its target share.
    """
    from Bio.Align import PairwiseAligner, substitution_matrices

    al = PairwiseAligner(mode="global", substitution_matrix=substitution_matrices.load("BLOSUM62"),
                         open_gap_score=-12, extend_gap_score=-2, end_gap_score=0)
    ids = sorted(chains)
    seqs = [(i, s) for i in ids for s in chains[i].values() if len(s) >= min_length]
    parent = {i: i for i in ids}

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    cache: dict[tuple[str, str], float] = {}
    for a in range(len(seqs)):
        for b in range(a + 1, len(seqs)):
            ia, sa = seqs[a]
            ib, sb = seqs[b]
            if ia == ib or find(ia) == find(ib):
                continue
            key = (sa, sb) if sa < sb else (sb, sa)
            if key not in cache:
                aln = al.align(sa, sb)[0]
                ident = int(np.sum(np.array(aln.counts().identities)))
                cache[key] = ident / min(len(sa), len(sb))
            if cache[key] > identity:
                parent[find(ia)] = find(ib)
    clusters: dict[str, list[str]] = {}
    for i in ids:
        clusters.setdefault(find(i), []).append(i)
    groups = list(clusters.values())
    rng = np.random.default_rng(seed)
    groups = [groups[k] for k in rng.permutation(len(groups))]
    groups.sort(key=len, reverse=True)
    names = ("train", "val", "test")
    out = {n: [] for n in names}
    total = len(ids)
    for g in groups:
        deficit = [fractions[k] * total - len(out[n]) for k, n in enumerate(names)]
        out[names[int(np.argmax(deficit))]].extend(g)
    out = {n: sorted(v) for n, v in out.items()}
    out["method"] = (f"single-linkage sequence-identity clusters (> {identity:.0%} over the shorter chain, "
                     f"chains >= {min_length} residues), seed {seed}, {fractions}")
    return out


def build_cache(src_dir, out_path, size: float = 24.0, resolution: float = 1.0, limit: int = 0,
                progress: bool = True, on_error=None) -> dict:
    """Profile every complex of ``src_dir`` into the HDF5 cache ``out_path`` (written atomically).

    ``on_error(source, exception)`` is called for each bad complex (default: collected only).
    Returns ``{"n_ok", "failed": [[id, reason]], "split": {...}, "path"}``.
    """
    import h5py

    from pocketvox.errors import PocketvoxError
    from pocketvox.grid import ALL_LABEL_CLASSES, channel_names

    sources = discover(src_dir)
    if limit:
        sources = sources[:limit]
    if not sources:
        raise InputFileError(f"{src_dir}: no complexes found (expected <ID>/<ID>_protein.pdb + "
                             "<ID>_ligand.sdf folders or PDB/mmCIF files)")
    items, failed = {}, []
    it = sources
    if progress:
        from tqdm import tqdm

        it = tqdm(sources, desc="profiling", unit="complex")
    for s in it:
        try:
            items[s.id] = process_complex(s, size=size, resolution=resolution)
        except (PocketvoxError, ValueError, RuntimeError, OSError) as e:
            failed.append([s.id, f"{type(e).__name__}: {e}"])
            if on_error is not None:
                on_error(s, e)
    split_file = Path(src_dir) / "split.json"
    if split_file.is_file():
        raw = json.loads(split_file.read_text())
        split = {k: [i for i in raw.get(k, []) if i in items] for k in ("train", "val", "test")}
        listed = set().union(*map(set, split.values()))
        extra = sorted(set(items) - listed)
        split["train"] += extra  # complexes the shipped split does not list
        split["method"] = f"{split_file} ({raw.get('method', 'shipped split')})" + (
            f"; {len(extra)} unlisted complexes added to train" if extra else "")
    else:
        split = sequence_split({k: v["chains"] for k, v in items.items()})
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["version"] = CACHE_VERSION
        f.attrs["channel_names"] = json.dumps(list(channel_names(True)))
        f.attrs["label_classes"] = json.dumps(list(ALL_LABEL_CLASSES))
        f.attrs["split"] = json.dumps(split)
        f.attrs["failed"] = json.dumps(failed)
        f.attrs["grid"] = json.dumps({"size": size, "resolution": resolution})
        f.attrs["source"] = str(Path(src_dir).resolve())
        g = f.create_group("complexes")
        for cid, d in items.items():
            h = g.create_group(cid)
            for k in ("coords", "radii", "types", "label_points", "label_classes", "lig_rings", "prot_rings",
                      "prot_ring_normals"):
                h.create_dataset(k, data=d[k], compression="gzip" if d[k].size > 256 else None)
            h.attrs["center"] = d["center"]
            h.attrs["ligand_id"] = d["ligand_id"]
            h.attrs["source"] = d["source"]
            h.attrs["n_interactions"] = d["n_interactions"]
            h.attrs["chains"] = json.dumps(d["chains"])
    tmp.replace(out_path)
    return {"n_ok": len(items), "failed": failed, "split": {k: len(v) for k, v in split.items() if k != "method"},
            "path": str(out_path)}


@dataclass
class CachedComplex:
    id: str
    coords: np.ndarray
    radii: np.ndarray
    types: np.ndarray  # (N, 16) bool
    label_points: np.ndarray
    label_classes: np.ndarray  # (M, len(ALL_LABEL_CLASSES)) bool
    lig_rings: np.ndarray
    prot_rings: np.ndarray
    prot_ring_normals: np.ndarray
    center: np.ndarray
    ligand_id: str
    source: str


def read_cache(path) -> tuple[dict[str, CachedComplex], dict]:
    """Load a cache fully into memory (a few MB for hundreds of complexes): (complexes, root info)."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: dataset cache not found (build it with `pocketvox dataset build`)")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputFileError(f"{path}: not an HDF5 dataset cache ({e})") from None
    with f:
        if "complexes" not in f or "channel_names" not in f.attrs:
            raise InputFileError(f"{path}: not a pocketvox dataset cache")
        info = {k: json.loads(f.attrs[k]) for k in ("channel_names", "label_classes", "split", "failed", "grid")}
        info["source"] = str(f.attrs.get("source", ""))
        nc, nl = len(info["channel_names"]), len(info["label_classes"])
        out = {}
        for cid, h in f["complexes"].items():
            out[cid] = CachedComplex(
                cid, h["coords"][()], h["radii"][()], unbits(h["types"][()], nc), h["label_points"][()],
                unbits(h["label_classes"][()], nl), h["lig_rings"][()], h["prot_rings"][()],
                h["prot_ring_normals"][()], np.asarray(h.attrs["center"], np.float64),
                str(h.attrs["ligand_id"]), str(h.attrs["source"]))
    return out, info
