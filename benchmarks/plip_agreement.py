"""Residue-level agreement of pocketvox's profiler with PLIP 3.0.1 on the PoseBusters set.

For every complex of ``shared/reference/posebusters_plip.json`` the receptor
(``data/posebusters/<ID>/<ID>_protein.pdb``) and the ligand (``<ID>_ligand.sdf``) are profiled and,
per interaction type, the set of interacting residues (chain, number) is compared with PLIP's
(hydrophobic against PLIP's refined ``hydrophobic`` list). Reports micro-averaged precision, recall
and F1 per type (TP/FP/FN summed over complexes), per split and overall, and lists the residues in
disagreement with the distances that explain them.

    .venv/bin/python benchmarks/plip_agreement.py [--shared ../shared] [--split all|train|val|test]
        [--json out.json] [--details N] [--categories]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPES = ("hbond", "hydrophobic", "pistacking", "saltbridge", "halogen", "pication")


def plip_residues(entry: dict) -> dict[str, set]:
    out = {}
    for t in TYPES:
        out[t] = {(r["chain"], int(r["resnr"])) for r in entry["interactions"].get(t, [])}
    return out


def ours(result) -> dict[str, set]:
    out = {t: set() for t in TYPES}
    for t, c, n in zip(result.type, result.res_chain, result.res_num):
        out[str(t)].add((str(c), int(n)))
    return out


def run(shared: Path, split: str = "all", config=None, quiet=False):
    from pocketvox.errors import PocketvoxError
    from pocketvox.interactions import profile
    from pocketvox.structure import load_complex

    ref = json.loads((shared / "reference" / "posebusters_plip.json").read_text())["complexes"]
    splits = json.loads((shared / "data" / "posebusters" / "split.json").read_text())
    which = {i: s for s in ("train", "val", "test") for i in splits[s]}
    pb = shared / "data" / "posebusters"
    rows = []
    errors = []
    t0 = time.perf_counter()
    for cid, entry in sorted(ref.items()):
        if split != "all" and which.get(cid) != split:
            continue
        try:
            c = load_complex(pb / cid / f"{cid}_protein.pdb", ligand_file=pb / cid / f"{cid}_ligand.sdf")
            res = profile(c, config)
        except PocketvoxError as e:
            errors.append((cid, str(e)))
            continue
        rows.append((cid, which.get(cid, "?"), plip_residues(entry), ours(res), res, c, entry))
    elapsed = time.perf_counter() - t0
    return rows, errors, elapsed


def scores(rows, types=TYPES):
    out = {}
    for t in types:
        tp = fp = fn = 0
        for _, _, ref, got, *_ in rows:
            tp += len(ref[t] & got[t])
            fp += len(got[t] - ref[t])
            fn += len(ref[t] - got[t])
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        f = 2 * p * r / (p + r) if p + r else float("nan")
        out[t] = dict(tp=tp, fp=fp, fn=fn, precision=p, recall=r, f1=f)
    return out


def disagreements(rows, t):
    """(complex, residue, 'FP'|'FN', our distance or '') per residue in disagreement for type t."""
    out = []
    for cid, _, ref, got, res, *_ in rows:
        for side, diff in (("FP", got[t] - ref[t]), ("FN", ref[t] - got[t])):
            for chain, num in sorted(diff):
                m = (res.type == t) & (res.res_chain == chain) & (res.res_num == num)
                dist = f"{res.distance[m].min():.2f}" if m.any() else ""
                out.append((cid, f"{chain}:{num}", side, dist))
    return out


def _row_at(coords, xyz) -> int:
    d = ((coords - xyz) ** 2).sum(1)
    i = int(d.argmin())
    return i if d[i] < 1e-4 else -1


def hbond_categories(rows, config=None) -> tuple[Counter, Counter]:
    """Why each hydrogen-bond residue disagrees: FP by our donor side and atom, FN by which of our
    criteria PLIP's pair (its donor and acceptor atoms, from the reference coordinates) fails."""
    import numpy as np

    from pocketvox.interactions import ProfilerConfig
    from pocketvox.interactions.hbond import donor_angle
    from pocketvox.interactions.hydrogens import effective_donors

    cfg = config or ProfilerConfig()
    fp, fn = Counter(), Counter()
    for _, _, ref, got, res, c, entry in rows:
        P, L = c.protein, c.ligand
        h = res.of_type("hbond")
        for chain, num in got["hbond"] - ref["hbond"]:
            k = np.flatnonzero((h.res_chain == chain) & (h.res_num == num))[0]
            pa = h.protein_atoms[k][0]
            where = "backbone" if P.name[pa] in ("N", "O", "OXT") else f"{P.res_name[pa]} {P.name[pa]}"
            fp[f"protein donor, {where}" if h.protein_is_donor[k] else f"ligand {L.element[h.ligand_atoms[k][0]]} "
               f"donor to {where}"] += 1
        for r in entry["interactions"].get("hbond", []):
            if (r["chain"], int(r["resnr"])) in got["hbond"]:
                continue
            li, pi = _row_at(L.coords, r["ligand_atom_coords"]), _row_at(P.coords, r["protein_atom_coords"])
            if li < 0 or pi < 0:
                fn["atom not in our tables"] += 1
                continue
            pdon = r["protein_is_donor"]
            (dt, di), (at, ai) = ((P, pi), (L, li)) if pdon else ((L, li), (P, pi))
            side = "protein" if pdon else "ligand"
            label = f"{P.res_name[pi]} {P.name[pi]}" if pdon else L.element[li]
            if not effective_donors(dt, receptor=pdon)[di]:
                fn[f"not our donor: {side} {label}"] += 1
            elif not at.acceptor[ai]:
                fn[f"not our acceptor: {'ligand ' + L.element[li] if pdon else P.res_name[pi] + ' ' + P.name[pi]}"] += 1
            else:
                ang, _ = donor_angle(dt, np.array([di]), at.coords[[ai]], cfg.hbond_hydrogen_model,
                                     cfg.hbond_don_angle_min, bond_orders=not pdon)
                fn[f"{side} donor: our hydrogen misses the 100° angle" if ang[0] <= cfg.hbond_don_angle_min
                   else f"{side} donor: one-per-donor choice or salt bridge"] += 1
    return fp, fn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--split", default="all", choices=["all", "train", "val", "test"])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--details", type=int, default=0, help="print up to N disagreements per type")
    ap.add_argument("--categories", action="store_true", help="explain hydrogen-bond disagreements by category")
    a = ap.parse_args(argv)
    rows, errors, elapsed = run(a.shared, a.split)
    print(f"{len(rows)} complexes profiled in {elapsed:.1f} s ({len(errors)} errors)")
    for cid, e in errors:
        print(f"  error {cid}: {e}")
    table = {}
    for sp in ("train", "val", "test", "all"):
        sub = [r for r in rows if sp == "all" or r[1] == sp]
        if not sub:
            continue
        table[sp] = scores(sub)
    print(f"{'type':12s} " + " ".join(f"{sp:>22s}" for sp in table))
    for t in TYPES:
        cells = []
        for sp in table:
            s = table[sp][t]
            cells.append(f"F1 {s['f1']:.3f} (P {s['precision']:.2f} R {s['recall']:.2f})")
        print(f"{t:12s} " + " ".join(f"{c:>22s}" for c in cells))
    s = table["all"]
    print("counts (all):", {t: (s[t]["tp"], s[t]["fp"], s[t]["fn"]) for t in TYPES})
    if a.details:
        for t in TYPES:
            d = disagreements(rows, t)
            print(f"\n{t}: {len(d)} residues in disagreement; " +
                  str(Counter(x[2] for x in d)))
            for x in d[: a.details]:
                print("   ", *x)
    cats = None
    if a.categories:
        fp, fn = hbond_categories(rows)
        cats = {"hbond_fp": dict(fp.most_common()), "hbond_fn": dict(fn.most_common())}
        for name, cnt in (("false-positive residues", fp), ("PLIP pairs on false-negative residues", fn)):
            print(f"\nhbond {name} by category ({sum(cnt.values())}):")
            for k, v in cnt.most_common(15):
                print(f"  {v:4d}  {k}")
    if a.json:
        a.json.write_text(json.dumps({"scores": table, "errors": errors, "n": len(rows), "categories": cats},
                                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
