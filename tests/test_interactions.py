"""Detection of each interaction family on synthetic geometry (a positive and a near-miss case each),
the CLI, and regression cases from real entries."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pocketvox.interactions import InteractionSet, ProfilerConfig, profile, profile_tables
from pocketvox.structure.atoms import AtomTable, pad_groups


def table(coords, element, *, res_name="LIG", name=None, res_num=None, chain="A", bonds=(), **flags):
    n = len(coords)
    cols = dict(coords=np.asarray(coords, float), element=np.array(element, "<U2"),
                res_name=np.full(n, res_name, "<U5"), chain=np.full(n, chain, "<U4"),
                name=np.array(name if name is not None else [f"X{i}" for i in range(n)], "<U4"),
                res_num=np.array(res_num if res_num is not None else np.ones(n), np.int32),
                bonds=np.array(bonds, np.int32).reshape(-1, 2), bond_order=np.ones(len(bonds), np.float32))
    for k, v in flags.items():
        if k in ("rings", "groups"):
            from pocketvox.structure.atoms import MAX_GROUP, MAX_RING

            cols[k] = pad_groups(v, MAX_RING if k == "rings" else MAX_GROUP)
        elif k in ("group_sign",):
            cols[k] = np.array(v, np.int8)
        elif k == "group_kind":
            cols[k] = np.array(v, "<U16")
        else:
            cols[k] = np.array(v, dtype=bool if k != "charge" else np.int8)
    return AtomTable.from_columns(**cols)


def hexagon(center, normal_axis=2, r=1.39):
    ang = np.radians(np.arange(6) * 60.0)
    pts = np.zeros((6, 3))
    ax = [i for i in range(3) if i != normal_axis]
    pts[:, ax[0]], pts[:, ax[1]] = r * np.cos(ang), r * np.sin(ang)
    return pts + np.asarray(center, float)


RING_BONDS = [(i, (i + 1) % 6) for i in range(6)]


def kinds(res: InteractionSet, t: str) -> int:
    return int((res.type == t).sum())


# ---------------------------------------------------------------------------- hydrophobic
@pytest.mark.parametrize("d, expected", [(3.8, 1), (4.2, 0)])
def test_hydrophobic_contact_and_near_miss(d, expected):
    lig = table([[0, 0, 0]], ["C"], hydrophobic=[True])
    prot = table([[d, 0, 0]], ["C"], res_name="LEU", hydrophobic=[True])
    res = profile_tables(prot, lig)
    assert kinds(res, "hydrophobic") == expected
    if expected:
        assert res.distance[0] == pytest.approx(d)
        assert res.res_name[0] == "LEU"


def test_hydrophobic_refinement_keeps_closest_per_patch():
    # Two bonded ligand carbons touching one protein carbon: one patch, the closer contact is kept.
    lig = table([[0, 0, 0], [1.5, 0, 0]], ["C", "C"], bonds=[(0, 1)], hydrophobic=[True, True])
    prot = table([[1.0, 3.5, 0]], ["C"], res_name="VAL", hydrophobic=[True])
    res = profile_tables(prot, lig)
    assert kinds(res, "hydrophobic") == 1
    assert res.ligand_atoms[0] == (0,) or res.ligand_atoms[0] == (1,)
    d = np.linalg.norm(lig.coords - prot.coords[0], axis=1)
    assert res.distance[0] == pytest.approx(d.min())


# ---------------------------------------------------------------------------- hydrogen bonds
def _hbond_pair(d_da, acc_offset_deg=70.0):
    # acc_offset_deg: angle between the C->O axis and O->acceptor; 70° gives C-O...A = 110°, a
    # typical hydroxyl geometry (on the axis itself no hydrogen of the cone reaches 100°).
    # Ligand: C-O(H) donor (one heavy neighbour, rotatable H). Protein: backbone-like C=O acceptor.
    lig = table([[-1.43, 0, 0], [0, 0, 0]], ["C", "O"], bonds=[(0, 1)], donor=[False, True],
                acceptor=[False, True])
    a = np.radians(acc_offset_deg)
    o = np.array([d_da * np.cos(a), d_da * np.sin(a), 0])
    prot = table([o, o + [1.23, 0, 0]], ["O", "C"], res_name="GLY", name=["O", "C"], bonds=[(0, 1)],
                 acceptor=[True, False])
    return prot, lig


def test_hbond_ligand_donor_found():
    prot, lig = _hbond_pair(2.9)
    res = profile_tables(prot, lig).of_type("hbond")
    assert len(res) >= 1
    assert not res.protein_is_donor[res.subtype == "ligand_donor"].any()
    assert res.distance[0] == pytest.approx(2.9)
    assert res.angle[0] > 100


def test_hbond_near_miss_distance():
    prot, lig = _hbond_pair(4.3)
    assert kinds(profile_tables(prot, lig), "hbond") == 0


def test_hbond_near_miss_acceptor_on_donor_axis():
    prot, lig = _hbond_pair(2.9, acc_offset_deg=0.0)
    assert kinds(profile_tables(prot, lig), "hbond") == 0


def test_hbond_near_miss_angle_fixed_hydrogen():
    # An sp2 N-H donor with two heavy neighbours: its H points along +x; an acceptor placed behind
    # the donor (between its neighbours' directions) gives a D-H...A angle well below 100°.
    lig = table([[0, 0, 0], [-0.7, 1.2, 0], [-0.7, -1.2, 0]], ["N", "C", "C"], bonds=[(0, 1), (0, 2)],
                donor=[True, False, False])
    ok = table([[2.9, 0, 0], [4.1, 0, 0]], ["O", "C"], res_name="GLY", bonds=[(0, 1)], acceptor=[True, False])
    behind = table([[-2.9, 0, 0], [-4.1, 0, 0]], ["O", "C"], res_name="GLY", bonds=[(0, 1)],
                   acceptor=[True, False])
    assert kinds(profile_tables(ok, lig), "hbond") == 1
    assert kinds(profile_tables(behind, lig), "hbond") == 0


def test_hbond_one_per_donor_and_saltbridge_exclusion():
    # Ligand carboxylate O (donor+acceptor) next to a Lys NZ: the salt bridge suppresses the H-bond
    # between the two charged groups.
    lig = table([[0, 0, 0], [1.25, 0.0, 0], [-0.6, 1.1, 0], [-0.6, -1.1, 0]], ["C", "O", "O", "C"],
                bonds=[(0, 1), (0, 2), (0, 3)], acceptor=[False, True, True, False],
                groups=[[1, 2]], group_sign=[-1], group_kind=["carboxylate"])
    prot = table([[4.0, 0, 0], [5.4, 0.3, 0]], ["N", "C"], res_name="LYS", name=["NZ", "CE"], bonds=[(0, 1)],
                 donor=[True, False], acceptor=[True, False], groups=[[0]], group_sign=[1],
                 group_kind=["ammonium"])
    res = profile_tables(prot, lig)
    assert kinds(res, "saltbridge") == 1
    assert kinds(res, "hbond") == 0


# ---------------------------------------------------------------------------- pi-stacking
def _rings(center_p, axis_p=2):
    lig = table(hexagon([0, 0, 0]), ["C"] * 6, bonds=RING_BONDS, aromatic=[True] * 6, rings=[list(range(6))])
    prot = table(hexagon(center_p, axis_p), ["C"] * 6, res_name="PHE", bonds=RING_BONDS, aromatic=[True] * 6,
                 rings=[list(range(6))])
    return prot, lig


def test_pistacking_parallel_and_offset_near_miss():
    res = profile_tables(*_rings([0.5, 0, 3.7])).of_type("pistacking")
    assert len(res) == 1 and res.subtype[0] == "parallel"
    assert res.offset[0] == pytest.approx(0.5, abs=1e-6)
    assert kinds(profile_tables(*_rings([2.3, 0, 3.7])), "pistacking") == 0


def test_pistacking_t_shaped_and_distance_near_miss():
    res = profile_tables(*_rings([0, 0, 5.0], axis_p=0)).of_type("pistacking")
    assert len(res) == 1 and res.subtype[0] == "t-shaped"
    assert kinds(profile_tables(*_rings([0, 0, 5.6], axis_p=0)), "pistacking") == 0


# ---------------------------------------------------------------------------- salt bridges
@pytest.mark.parametrize("d, expected", [(4.5, 1), (5.7, 0)])
def test_saltbridge(d, expected):
    lig = table([[0, 0, 0], [1.2, 0, 0], [-1.2, 0, 0], [0, 1.5, 0]], ["C", "O", "O", "C"],
                bonds=[(0, 1), (0, 2), (0, 3)], groups=[[1, 2]], group_sign=[-1], group_kind=["carboxylate"])
    prot = table([[0, -d, 0]], ["N"], res_name="LYS", name=["NZ"], groups=[[0]], group_sign=[1],
                 group_kind=["ammonium"])
    res = profile_tables(prot, lig)
    assert kinds(res, "saltbridge") == expected
    if expected:
        assert res.subtype[0] == "protein_positive"


# ---------------------------------------------------------------------------- halogen bonds
def _halogen(acc_angle_deg):
    # C-Cl along +x, acceptor O 3.2 Å beyond Cl on the axis; the O's carbon sets the Y-O...X angle.
    lig = table([[-1.75, 0, 0], [0, 0, 0]], ["C", "CL"], bonds=[(0, 1)], halogen=[False, True])
    o = np.array([3.2, 0, 0])
    a = np.radians(180 - acc_angle_deg)
    c = o + 1.23 * np.array([np.cos(a), np.sin(a), 0])
    prot = table([o, c], ["O", "C"], res_name="GLY", name=["O", "C"], bonds=[(0, 1)], acceptor=[True, False])
    return prot, lig


def test_halogen_bond_and_angle_near_miss():
    res = profile_tables(*_halogen(120)).of_type("halogen")
    assert len(res) == 1 and res.distance[0] == pytest.approx(3.2)
    assert kinds(profile_tables(*_halogen(175)), "halogen") == 0  # Y-O...X outside 120 ± 30


# ---------------------------------------------------------------------------- cation-pi
@pytest.mark.parametrize("offset, expected", [(0.5, 1), (2.5, 0)])
def test_pication(offset, expected):
    prot = table(hexagon([0, 0, 0]), ["C"] * 6, res_name="PHE", bonds=RING_BONDS, aromatic=[True] * 6,
                 rings=[list(range(6))])
    n = np.array([offset, 0, 4.0])
    subs = n + np.array([[1.5, 0, 0], [-0.75, 1.3, 0], [-0.75, -1.3, 0], [0, 0, 1.5]])
    lig = table(np.vstack([n, subs]), ["N", "C", "C", "C", "C"], bonds=[(0, 1), (0, 2), (0, 3), (0, 4)],
                groups=[[0]], group_sign=[1], group_kind=["quaternary_amine"])
    res = profile_tables(prot, lig)
    assert kinds(res, "pication") == expected
    if expected:
        assert res.subtype[0] == "ligand_positive"
        assert res.offset[0] == pytest.approx(offset)


def test_config_validation_and_override():
    with pytest.raises(ValueError):
        ProfilerConfig(hbond_hydrogen_model="magic")
    lig = table([[0, 0, 0]], ["C"], hydrophobic=[True])
    prot = table([[4.2, 0, 0]], ["C"], hydrophobic=[True])
    assert kinds(profile_tables(prot, lig, ProfilerConfig(hydroph_dist_max=4.5)), "hydrophobic") == 1


# ---------------------------------------------------------------------------- real entries
def test_1eve_donepezil_regression(bundled_dir):
    """1EVE: acetylcholinesterase-donepezil, PLIP's literature case: stacking with Trp84 and Trp279 and
    cation-pi of the piperidinium (a tertiary amine PLIP counts as charged) with Phe330."""
    res = profile(str(bundled_dir / "examples" / "1eve.pdb.gz"), ligand="E20:A:2001")
    assert {84, 279} <= set(res.res_num[res.type == "pistacking"].tolist())
    m = (res.type == "pication") & (res.subtype == "ligand_positive")
    assert 330 in res.res_num[m].tolist()
    df = res.to_dataframe()
    assert len(df) == len(res) and {"type", "resnum", "distance"} <= set(df.columns)


def test_7ngw_ligand_file(bundled_dir):
    """7NGW: receptor and SDF ligand read separately; every interaction names a residue and lies
    within its family's cutoff."""
    ex = bundled_dir / "examples"
    res = profile(str(ex / "7NGW_protein.pdb"), ligand_file=str(ex / "7NGW_ligand.sdf"))
    assert len(res) > 0
    cfg = ProfilerConfig()
    lim = {"hbond": cfg.hbond_dist_max, "hydrophobic": cfg.hydroph_dist_max, "pistacking": cfg.pistack_dist_max,
           "saltbridge": cfg.saltbridge_dist_max, "halogen": cfg.halogen_dist_max, "pication": cfg.pication_dist_max}
    for t, d in zip(res.type, res.distance):
        assert cfg.min_dist < d < lim[str(t)]
    assert (res.res_num > 0).all()


def test_3o1h_tiny_quaternary_ligand(plip_dir):
    """3o1h: TMO (trimethylamine N-oxide, 5 atoms) — a quaternary ammonium facing Tyr44: the only
    cation-pi PLIP reports (the test asserts set equality)."""
    res = profile(str(plip_dir / "pdb" / "3o1h.pdb"), ligand="TMO:B:1")
    m = (res.type == "pication") & (res.subtype == "ligand_positive")
    assert set(res.res_num[m].tolist()) == {44}


# ---------------------------------------------------------------------------- CLI
def test_cli_json_and_bad_input(bundled_dir, tmp_path, capsys):
    from pocketvox.cli.main import main

    bad = tmp_path / "empty.pdb"
    bad.write_text("")
    good = bundled_dir / "examples" / "1eve.pdb.gz"
    with pytest.raises(SystemExit) as e:
        main(["interactions", str(bad), str(good), "--ligand", "E20:A:2001", "--format", "json"])
    assert e.value.code == 1
    out, err = capsys.readouterr()
    lines = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0]["ligand"] == "E20:A:2001" and lines[0]["complex"] == str(good)
    rec = lines[0]["interactions"]
    assert rec and {"type", "residue", "distance", "ligand_point", "protein_point", "ligand_atoms"} <= set(rec[0])
    assert all("protein_is_donor" in r for r in rec if r["type"] == "hbond")
    assert all(r["subtype"] in ("parallel", "t-shaped") for r in rec if r["type"] == "pistacking")
    assert "empty.pdb" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_table_and_csv(bundled_dir, capsys):
    from pocketvox.cli.main import main

    ex = bundled_dir / "examples"
    args = ["interactions", str(ex / "7NGW_protein.pdb"), "--ligand-file", str(ex / "7NGW_ligand.sdf")]
    main(args + ["--format", "csv"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("complex,ligand,type") and len(out) > 1
    main(args)
    assert "ligand" in capsys.readouterr().out


# ---------------------------------------------------------------------------- kernels
def test_site_pairs_match_brute_force():
    """The one-pass binding-site / pair search equals a dense distance matrix (site: strictly within
    the radius; pairs: only with site atoms, here with a site radius below the pair radius)."""
    from pocketvox.interactions import _kernels

    rng = np.random.default_rng(0)
    lig = rng.uniform(0, 6, (25, 3))
    prot = rng.uniform(-10, 16, (900, 3))
    keep = rng.random(900) > 0.1
    for bs, r in ((7.5, 4.1), (3.0, 4.1)):
        site, pl, pp, pd = _kernels.site_pairs(lig, prot, keep, bs * bs, r * r)
        d = np.linalg.norm(lig[:, None] - prot[None], axis=-1)
        want_site = keep & (d.min(0) < bs)
        assert (site == want_site).all()
        i, j = np.nonzero((d <= r) & want_site[None])
        assert sorted(zip(pl.tolist(), pp.tolist())) == sorted(zip(i.tolist(), j.tolist()))
        assert np.allclose(pd, d[pl, pp], rtol=0, atol=1e-12)
    # more pairs than the first guess of capacity: the kernel runs again with room for all
    site, pl, pp, pd = _kernels.site_pairs(lig[:2], prot, keep, 400.0, 400.0)
    d = np.linalg.norm(lig[:2, None] - prot[None], axis=-1)
    assert len(pl) == int(((d <= 20.0) & keep[None]).sum()) > 32


def test_neighbor_table_kernel_matches_padded_neighbors():
    """The cached neighbour table (rows restricted to ``keep``) equals padded_neighbors on the selected
    table, including an atom with more than four partners."""
    from pocketvox.interactions import _kernels
    from pocketvox.interactions.site import padded_neighbors

    rng = np.random.default_rng(1)
    n = 40
    bonds = np.array(sorted({(min(a, b), max(a, b)) for a, b in rng.integers(0, n, (120, 2)) if a != b}), np.int32)
    bonds = np.vstack([bonds, [[0, k] for k in range(30, 37)]]).astype(np.int32)  # row 0: many partners
    t = table(rng.uniform(0, 10, (n, 3)), ["C"] * n, bonds=bonds.tolist())
    keep = rng.random(n) > 0.2
    keep[0] = True
    got = _kernels.padded_neighbors(n, t.bonds, keep, 4)
    rows = np.flatnonzero(keep)
    sub = t.select(keep)
    want = padded_neighbors(sub, np.arange(len(sub)), 4)
    assert (got[rows] == np.where(want >= 0, rows[np.where(want >= 0, want, 0)], -1)).all()


def test_patch_refinement_matches_connected_components():
    """Rule 3 of the hydrophobic refinement (numba union-find) against scipy's connected components."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from pocketvox.interactions import _kernels

    rng = np.random.default_rng(2)
    n_lig, n_prot = 30, 12
    bonds = np.array([(i, i + 1) for i in range(n_lig - 1)] + [(0, 5), (10, 20)], np.int32)
    adj = np.zeros((n_lig, n_lig), bool)
    adj[bonds[:, 0], bonds[:, 1]] = adj[bonds[:, 1], bonds[:, 0]] = True
    for _ in range(20):
        pairs = np.unique(np.stack([rng.integers(0, n_lig, 40), rng.integers(0, n_prot, 40)], 1), axis=0)
        lg, pr = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
        d = rng.choice([3.0, 3.5, 3.9], len(lg))  # ties: the first contact of a patch wins
        got = _kernels.patch_keep(lg, pr, d, n_lig, bonds, n_prot)
        a, b = np.nonzero((pr[:, None] == pr[None]) & adj[lg[:, None], lg[None]])
        _, comp = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(len(lg),) * 2), directed=False)
        best = np.zeros(len(lg), bool)
        order = np.lexsort((d, comp))
        first = np.ones(len(order), bool)
        first[1:] = comp[order][1:] != comp[order][:-1]
        best[order[first]] = True
        per_atom = np.bincount(pr, minlength=n_prot)[pr]
        want = (per_atom == 1) | ((np.bincount(comp)[comp] >= 2) & best)
        assert (got == want).all()


def test_small_binding_site_drops_partial_rings():
    """A ring with a member beyond ``bs_dist`` is not part of the binding site, as when the site was a
    selected sub-table: no stacking with it (members here lie 3.40-4.22 Å from the ligand)."""
    t = np.radians(20.0)  # a protein ring tilted by 20° over the ligand ring: still parallel stacking
    rot = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    lig = table(hexagon([0, 0, 0]), ["C"] * 6, bonds=RING_BONDS, aromatic=[True] * 6, rings=[list(range(6))])
    prot = table(hexagon([0, 0, 0]) @ rot.T + [0.3, 0, 3.8], ["C"] * 6, res_name="PHE", bonds=RING_BONDS,
                 aromatic=[True] * 6, rings=[list(range(6))])
    assert kinds(profile_tables(prot, lig), "pistacking") == 1
    assert kinds(profile_tables(prot, lig, ProfilerConfig(bs_dist=4.0)), "pistacking") == 0
    assert kinds(profile_tables(prot, lig, ProfilerConfig(bs_dist=4.3)), "pistacking") == 1
