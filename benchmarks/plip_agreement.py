"""Residue-level agreement of pocketvox's profiler with PLIP 3.0.1 on the PoseBusters set.

For every complex of ``shared/reference/posebusters_plip.json`` the receptor
(``data/posebusters/<ID>/<ID>_protein.pdb``) and the ligand (``<ID>_ligand.sdf``) are profiled and,
per interaction type, the set of interacting residues (chain, number) is compared with PLIP's
(hydrophobic against PLIP's refined ``hydrophobic`` list). Reports micro-averaged precision, recall
and F1 per type (TP/FP/FN summed over complexes), per split and overall, and lists the residues in
disagreement with the distances that explain them.

    .venv/bin/python benchmarks/plip_agreement.py [--shared ../shared] [--split all|train|val|test]
        [--json out.json] [--details N]
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
        rows.append((cid, which.get(cid, "?"), plip_residues(entry), ours(res), res))
    elapsed = time.perf_counter() - t0
    return rows, errors, elapsed


def scores(rows, types=TYPES):
    out = {}
    for t in types:
        tp = fp = fn = 0
        for _, _, ref, got, _ in rows:
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
    for cid, _, ref, got, res in rows:
        for side, diff in (("FP", got[t] - ref[t]), ("FN", ref[t] - got[t])):
            for chain, num in sorted(diff):
                m = (res.type == t) & (res.res_chain == chain) & (res.res_num == num)
                dist = f"{res.distance[m].min():.2f}" if m.any() else ""
                out.append((cid, f"{chain}:{num}", side, dist))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--split", default="all", choices=["all", "train", "val", "test"])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--details", type=int, default=0, help="print up to N disagreements per type")
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
    if a.json:
        a.json.write_text(json.dumps({"scores": table, "errors": errors, "n": len(rows)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
