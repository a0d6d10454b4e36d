"""Grid geometry, densities (numba and torch), labels, augmentation and CCP4 maps on synthetic input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pocketvox.errors import PocketvoxError
from pocketvox.grid.augment import RigidTransform, quaternion_to_matrix, random_rotation
from pocketvox.grid.ccp4 import read_ccp4, write_ccp4
from pocketvox.grid.channels import (
    ATOM_KINDS,
    DensityParams,
    atom_kind_matrix,
    channel_names,
    describe_channels,
    element_radii,
    type_atoms,
)
from pocketvox.grid.kernels import density_integral, density_profile, grid_density
from pocketvox.grid.labels import LabelParams, class_membership, label_arrays, label_grid
from pocketvox.grid.spec import GridSpec
from pocketvox.grid.voxelize import VoxelGrid, voxelize, voxelize_arrays
from pocketvox.interactions.result import InteractionSet
from pocketvox.structure.atoms import AtomTable, Complex


def _random_atoms(n=150, c=5, seed=0, spread=8.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-spread, spread, (n, 3))
    r = rng.uniform(1.2, 2.0, n).astype(np.float32)
    t = rng.random((n, c)) < 0.4
    return x, r, t


def _toy_complex(seed=0, with_h=False):
    """A 'protein' of random typed atoms around a small 'ligand' near the origin."""
    rng = np.random.default_rng(seed)
    n = 120
    pc = rng.uniform(-10, 10, (n, 3))
    pc = pc[np.linalg.norm(pc, axis=1) > 4.5]
    n = len(pc)
    prot = dict(
        coords=pc,
        element=rng.choice(["C", "N", "O", "S"], n),
        hydrophobic=rng.random(n) < 0.4,
        aromatic=rng.random(n) < 0.2,
        donor=rng.random(n) < 0.2,
        acceptor=rng.random(n) < 0.2,
        charge=rng.choice([-1, 0, 0, 0, 1], n).astype(np.int8),
    )
    lc = rng.normal(0, 1.5, (12, 3))
    lig = dict(coords=lc, element=np.array(["C"] * 8 + ["N", "O", "O", "CL"]),
               hydrophobic=np.arange(12) < 8, aromatic=np.arange(12) < 6,
               donor=np.arange(12) == 8, acceptor=np.isin(np.arange(12), [9, 10]),
               halogen=np.arange(12) == 11)
    if with_h:
        for d, k in ((prot, 30), (lig, 6)):
            hc = d["coords"][:k] + rng.normal(0, 0.6, (k, 3))
            d["coords"] = np.concatenate([d["coords"], hc])
            d["element"] = np.concatenate([d["element"], ["H"] * k])
            for f in ("hydrophobic", "aromatic", "donor", "acceptor", "halogen", "charge"):
                if f in d:
                    d[f] = np.concatenate([d[f], np.zeros(k, d[f].dtype)])
    return Complex(AtomTable.from_columns(**prot), AtomTable.from_columns(**lig), "LIG:A:1", "toy")


# ---------------------------------------------------------------------------- spec
def test_spec_geometry_and_conversions():
    s = GridSpec((1.0, 2.0, 3.0), 24.0, 1.0)
    assert s.shape == (24, 24, 24)
    # points symmetric about the centre: mean of first and last point is the centre
    ax = s.axes()
    assert np.allclose([(a[0] + a[-1]) / 2 for a in ax], s.center)
    assert np.allclose(s.to_coords(s.to_index([[5.3, -1.0, 2.2]])), [[5.3, -1.0, 2.2]])
    assert np.allclose(s.to_coords([0, 0, 0]), s.origin)
    assert GridSpec((0, 0, 0), 24.0, 0.5).shape == (48, 48, 48)
    assert s.contains(np.array([s.center])).all() and not s.contains(np.array([[100.0, 0, 0]])).any()


def test_spec_snapping_and_constructors():
    pts = np.array([[0.13, 4.2, -3.3], [6.7, 9.1, 2.05]])
    s = GridSpec.around_ligand(pts, size=24, resolution=0.5)
    assert s.is_lattice_aligned()
    assert np.all(np.abs(s.center_array - pts.mean(0)) <= 0.25 + 1e-9)
    f = GridSpec.from_points(pts, resolution=1.0, padding=4.0)
    assert f.size >= 6.57 + 8 and f.n % 2 == 0
    assert f.contains(pts).all()


@pytest.mark.parametrize(
    "bad", [dict(size=-1), dict(resolution=0), dict(center=(0, 0)), dict(center=(0, np.nan, 0))]
)
def test_spec_rejects_bad_input(bad):
    kw = dict(center=(0, 0, 0), size=24, resolution=1.0) | bad
    with pytest.raises(PocketvoxError):
        GridSpec(**kw)


# ---------------------------------------------------------------------------- channels
def test_channels_listed_and_typed_from_flags():
    names = channel_names()
    assert len(names) == 16 and names[0] == "protein_hydrophobic" and names[8] == "ligand_hydrophobic"
    assert {d["kind"] for d in describe_channels()} == {k for k, _ in ATOM_KINDS}
    t = AtomTable.from_columns(
        coords=np.zeros((4, 3)), element=np.array(["C", "N", "ZN", "H"]), donor=[False, True, False, True],
        metal=[False, False, True, False], charge=np.array([0, 0, 2, 0]),
    )
    m = atom_kind_matrix(t)
    assert m[1, 2] and not m[0, 2]  # donor
    assert m[2, 6] and m[2, 4]  # metal, positive
    assert not m[3].any()  # hydrogen feeds nothing
    assert m[:3, 7].all()  # occupancy for heavy atoms
    r = element_radii(t.element, t.metal)
    assert r[0] == pytest.approx(1.70) and r[2] == pytest.approx(1.2)


def test_charged_group_members_are_charged():
    t = AtomTable.from_columns(coords=np.zeros((3, 3)), element=np.array(["N", "N", "C"]),
                               groups=[[0, 1, -1, -1, -1, -1, -1, -1]])
    t = AtomTable(**{**t.__dict__, "group_sign": np.array([1], np.int8),
                     "group_kind": np.array(["guanidine"])})
    m = atom_kind_matrix(t)
    assert m[:2, 4].all() and not m[2, 4]


def test_hydrogens_do_not_change_grids():
    a = voxelize(_toy_complex(3, with_h=False))
    b = voxelize(_toy_complex(3, with_h=True))
    assert np.array_equal(a.features, b.features)


# ---------------------------------------------------------------------------- density
def test_density_profile_is_continuous_and_smooth():
    e = 1e-6
    assert density_profile(1 - e) == pytest.approx(density_profile(1 + e), abs=1e-5)
    # C1 at x = 1: one-sided slopes agree
    s1 = (density_profile(1.0) - density_profile(1 - 1e-4)) / 1e-4
    s2 = (density_profile(1 + 1e-4) - density_profile(1.0)) / 1e-4
    assert s1 == pytest.approx(s2, rel=1e-2)
    assert density_profile(1.5) == 0 and density_profile(0) == 1


@pytest.mark.parametrize("radius", [1.0, 1.7])
def test_isolated_atom_integral(radius):
    # closed form vs numerical quadrature of the profile
    x = np.linspace(0, 1.5, 200001)
    quad = 4 * math.pi * radius**3 * np.trapezoid(x**2 * density_profile(x), x)
    assert density_integral(radius) == pytest.approx(quad, rel=1e-6)
    # the gridded atom sums to the documented integral (voxel sum x voxel volume)
    res = 0.2
    spec = GridSpec((0.0, 0.0, 0.0), 8.0, res)
    g = grid_density(np.array([[0.031, -0.047, 0.012]]), np.array([radius]), np.ones((1, 1), bool), spec)
    assert g.sum() * res**3 == pytest.approx(density_integral(radius), rel=2e-3)
    assert g.max() <= 1.0


def test_density_values_at_known_points():
    spec = GridSpec((0.0, 0.0, 0.0), 10.0, 0.5)  # points at +-0.25, +-0.75 ...
    p = spec.to_coords([10, 10, 10])
    g = grid_density(p[None], np.array([1.5]), np.ones((1, 2), bool), spec)
    assert g[0, 10, 10, 10] == pytest.approx(1.0)
    assert g[1, 10, 10, 12] == pytest.approx(math.exp(-2 * (1.0 / 1.5) ** 2), rel=1e-5)
    assert g[0, 10, 10, 13] == pytest.approx(density_profile(1.5 / 1.5), rel=1e-5)
    assert g[0, 10, 10, 14] == pytest.approx(density_profile(2.0 / 1.5), rel=1e-4)
    assert g[0, 10, 10, 15] == 0.0  # 2.5 Å > 1.5 * r


def test_density_binary_and_channels_independent():
    x, r, t = _random_atoms()
    spec = GridSpec((0.0, 0.0, 0.0), 16.0, 1.0)
    g = grid_density(x, r, t, spec)
    for c in range(t.shape[1]):  # each channel equals gridding only that channel's atoms
        gc = grid_density(x[t[:, c]], r[t[:, c]], np.ones((int(t[:, c].sum()), 1), bool), spec)
        assert np.allclose(g[c], gc[0], atol=1e-5)
    gb = grid_density(x, r, t, spec, DensityParams(binary=True))
    assert set(np.unique(gb)) <= {0.0, 1.0} and gb.sum() > 0


def test_atoms_outside_box_and_empty_input():
    spec = GridSpec((0.0, 0.0, 0.0), 8.0, 1.0)
    g = grid_density(np.array([[50.0, 0, 0]]), np.array([1.7]), np.ones((1, 3), bool), spec)
    assert g.shape == (3, 8, 8, 8) and not g.any()
    g = grid_density(np.zeros((0, 3)), np.zeros(0), np.zeros((0, 2), bool), spec)
    assert g.shape == (2, 8, 8, 8) and not g.any()


def test_torch_cpu_equals_numba():
    torch = pytest.importorskip("torch")
    from pocketvox.grid.torch_kernels import grid_density_torch, pad_batch

    specs, samples, ref = [], [], []
    for seed, res in ((0, 1.0), (1, 1.0), (2, 1.0)):
        x, r, t = _random_atoms(n=100 + 30 * seed, seed=seed, spread=8.0 + 6 * seed)  # some atoms outside
        spec = GridSpec((0.3 * seed, -0.2, 0.1), 16.0, res)
        specs.append(spec)
        samples.append((x.astype(np.float32), r, t))
        ref.append(grid_density(x, r, t, spec))
    coords, radii, types = pad_batch(samples)
    centers = torch.tensor(np.array([s.center for s in specs]), dtype=torch.float32)
    got = grid_density_torch(coords, radii, types, centers, specs[0].n, 1.0, max_elements=1 << 16).numpy()
    assert got.shape == (3, 5, 16, 16, 16)
    assert np.allclose(got, np.stack(ref), atol=2e-5)
    # binary mode agrees too
    binary = DensityParams(binary=True)
    gb = grid_density_torch(coords[:1], radii[:1], types[:1], centers[:1], 16, 1.0, binary)
    assert np.array_equal(gb[0].numpy(), grid_density(*samples[0], specs[0], DensityParams(binary=True)))


def test_torch_rigid_transform_matches_numpy():
    torch = pytest.importorskip("torch")
    from pocketvox.grid.torch_kernels import rigid_transform_torch

    x = np.random.default_rng(2).normal(size=(2, 30, 3))
    rots = random_rotation(4, size=2)
    tr = np.array([[1.0, 2, 3], [-1, 0, 0.5]])
    ctr = np.array([[0.5, 0.5, 0.5], [2.0, -1, 0]])
    got = rigid_transform_torch(torch.tensor(x), torch.tensor(rots), torch.tensor(tr), torch.tensor(ctr)).numpy()
    for i in range(2):
        assert np.allclose(got[i], RigidTransform(rots[i], tr[i], ctr[i]).apply(x[i]))


@pytest.mark.skipif(not __import__("importlib").util.find_spec("torch"), reason="torch not installed")
def test_cuda_equals_numba():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    from pocketvox.grid.torch_kernels import grid_density_torch, pad_batch

    x, r, t = _random_atoms(n=400, seed=5)
    spec = GridSpec((0.0, 0.0, 0.0), 24.0, 0.5)
    coords, radii, types = pad_batch([(x, r, t)] * 4, device="cuda")
    got = grid_density_torch(coords, radii, types, torch.tensor(spec.center), spec.n, spec.resolution)
    ref = grid_density(x, r, t, spec)
    assert np.abs(got.cpu().numpy() - ref[None]).max() < 1e-4


# ---------------------------------------------------------------------------- augmentation
def test_random_rotations_are_proper_and_uniform():
    rs = random_rotation(np.random.default_rng(1), size=4000)
    assert np.allclose(np.einsum("nij,nkj->nik", rs, rs), np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(rs), 1.0)
    # Haar measure: E[R] = 0 and the rotated x axis is uniform on the sphere (mean ~ 0, E[z^2] = 1/3)
    assert np.abs(rs.mean(0)).max() < 0.05
    v = rs[:, :, 0]
    assert abs((v[:, 2] ** 2).mean() - 1 / 3) < 0.03
    # rotation angle distribution (1 - cos t)/pi: E[cos t] = -1/2... check trace mean = 0
    assert abs(np.trace(rs, axis1=1, axis2=2).mean()) < 0.1
    assert np.allclose(quaternion_to_matrix(np.array([1.0, 0, 0, 0])), np.eye(3))


def test_rotation_by_90_degrees_permutes_grid_exactly():
    cx = _toy_complex(4)
    spec = GridSpec((0.0, 0.0, 0.0), 20.0, 1.0)
    rz = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])  # +90° about z: (x, y) -> (-y, x)
    a = voxelize(cx, spec=spec)
    b = voxelize(cx, spec=spec, rotation=rz)
    # value at (x, y, z) moves to (-y, x, z): b[i', j'] = a[j', n-1-i']
    expect = np.rot90(a.features, k=1, axes=(1, 2))
    assert np.allclose(b.features, expect, atol=1e-5)


def test_arbitrary_rotation_matches_resampled_grid():
    from scipy.ndimage import map_coordinates

    cx = _toy_complex(5)
    spec = GridSpec((0.0, 0.0, 0.0), 20.0, 0.5)
    rot = random_rotation(3)  # a 105° rotation (seed 7 gives ~180°, where R and R^T coincide)
    a = voxelize(cx, spec=spec).features
    b = voxelize(cx, spec=spec, rotation=rot).features
    # b(p) = a(R^T (p - c) + c): sample a at the back-rotated points (trilinear)
    idx = np.stack(np.meshgrid(*[np.arange(spec.n)] * 3, indexing="ij"), -1).reshape(-1, 3)
    back = RigidTransform(rot.T, np.zeros(3), spec.center_array).apply(spec.to_coords(idx))
    bi = spec.to_index(back).T
    occ_a, occ_b = a[7], b[7]  # protein occupancy
    resampled = map_coordinates(occ_a, bi, order=1, mode="constant").reshape(occ_b.shape)
    inner = np.linalg.norm(spec.to_coords(idx) - spec.center_array, axis=1).reshape(occ_b.shape) < 8.0
    err = np.abs(resampled - occ_b)[inner]
    # trilinear interpolation of a Gaussian of sigma ~ r/2 at 0.5 Å spacing errs by a few % of the signal
    assert err.mean() < 0.1 * occ_b[inner].mean()
    assert np.corrcoef(resampled[inner], occ_b[inner])[0, 1] > 0.98
    # and the test discriminates: the inverse rotation does not match
    wrong = RigidTransform(rot, np.zeros(3), spec.center_array).apply(spec.to_coords(idx))
    bad = map_coordinates(occ_a, spec.to_index(wrong).T, order=1, mode="constant").reshape(occ_b.shape)
    assert np.corrcoef(bad[inner], occ_b[inner])[0, 1] < 0.8


def test_translation_shifts_grid():
    cx = _toy_complex(6)
    spec = GridSpec((0.0, 0.0, 0.0), 16.0, 1.0)
    a = voxelize(cx, spec=spec).features
    b = voxelize(cx, spec=spec, translation=np.array([2.0, 0, -1.0])).features
    assert np.allclose(b[:, 4:, :, :-1], a[:, 2:-2, :, 1:], atol=1e-5)


# ---------------------------------------------------------------------------- labels
def _inter(rows):
    return InteractionSet.build([dict(protein_point=(0, 0, 0), **r) for r in rows])


def test_label_voxels_around_ligand_points():
    spec = GridSpec((0.0, 0.0, 0.0), 16.0, 0.5)
    pts = np.array([[1.0, 2.0, 3.0], [-4.0, 0.5, 0.0], [3.0, -3.0, -3.0]])
    inter = _inter([
        dict(type="hbond", ligand_point=pts[0], protein_is_donor=True),
        dict(type="hydrophobic", ligand_point=pts[1]),
        dict(type="pistacking", ligand_point=pts[2]),
        dict(type="hbond", ligand_point=pts[2], protein_is_donor=False),
    ])
    p, m = label_arrays(inter)
    lab = label_grid(p, m, spec, LabelParams(radius=1.5))
    assert lab.shape == (3, 32, 32, 32) and lab.dtype == np.uint8
    xyz = spec.to_coords(np.stack(np.meshgrid(*[np.arange(32)] * 3, indexing="ij"), -1))
    for k, centres in enumerate(([pts[0], pts[2]], [pts[1]], [pts[2]])):
        d = np.min([np.linalg.norm(xyz - c, axis=-1) for c in centres], axis=0)
        assert np.array_equal(lab[k].astype(bool), d <= 1.5)
    # multi-label: the voxel at pts[2] is both hbond and pistacking
    i, j, kk = spec.nearest_index(pts[2])
    assert lab[0, i, j, kk] == 1 and lab[2, i, j, kk] == 1 and lab[1, i, j, kk] == 0


def test_hbond_direction_split_and_extra_classes():
    inter = _inter([
        dict(type="hbond", ligand_point=(0, 0, 0), protein_is_donor=True),
        dict(type="hbond", ligand_point=(1, 0, 0), protein_is_donor=False),
        dict(type="saltbridge", ligand_point=(2, 0, 0)),
    ])
    classes = ("hbond", "hbond_ligand_donor", "hbond_ligand_acceptor", "saltbridge")
    m = class_membership(inter.type, inter.protein_is_donor, classes)
    assert m.tolist() == [[True, False, True, False], [True, True, False, False], [False, False, False, True]]
    with pytest.raises(PocketvoxError, match="unknown label class"):
        class_membership(inter.type, inter.protein_is_donor, ("hbond", "bogus"))


def test_labels_follow_the_rigid_transform():
    cx = _toy_complex(8)
    lp = cx.ligand.coords[[8, 0, 2]]
    inter = _inter([dict(type="hbond", ligand_point=lp[0]), dict(type="hydrophobic", ligand_point=lp[1]),
                    dict(type="pistacking", ligand_point=lp[2])])
    spec = GridSpec((0.0, 0.0, 0.0), 20.0, 1.0)
    rot, tr = random_rotation(3), np.array([0.7, -1.1, 0.4])
    g = voxelize(cx, inter, spec=spec, rotation=rot, translation=tr)
    moved = RigidTransform(rot, tr, spec.center_array).apply(lp)
    for k in range(3):
        i, j, kk = spec.nearest_index(moved[k])
        assert g.labels[k, i, j, kk] == 1
        # the labelled voxels' centroid sits on the moved point
        cen = spec.to_coords(np.argwhere(g.labels[k]).mean(0))
        assert np.linalg.norm(cen - moved[k]) < 0.35
    # and the ligand density peaks there too (labels and inputs moved together)
    lig_occ = g.features[15]
    i, j, kk = spec.nearest_index(moved[0])
    assert lig_occ[i, j, kk] > 0.5


# ---------------------------------------------------------------------------- high level + IO
def test_voxelize_defaults_and_arrays_api(tmp_path):
    cx = _toy_complex(9)
    inter = _inter([dict(type="hbond", ligand_point=cx.ligand.coords[9], protein_is_donor=True)])
    g = voxelize(cx, inter)
    assert g.features.shape == (16, 24, 24, 24) and g.features.dtype == np.float32
    assert g.labels.shape == (3, 24, 24, 24) and g.label_names == ("hbond", "hydrophobic", "pistacking")
    assert g.spec.is_lattice_aligned() and g.features[:8].sum() > 0 and g.features[8:].sum() > 0
    pocket = voxelize(cx, spec=g.spec, include_ligand=False)
    assert pocket.features.shape[0] == 8 and np.allclose(pocket.features, g.features[:8])
    typed = type_atoms(cx.protein, cx.ligand)
    p, m = label_arrays(inter)
    g2 = voxelize_arrays(typed, g.spec, p, m, g.label_names)
    assert np.array_equal(g2.features, g.features) and np.array_equal(g2.labels, g.labels)
    g.to_npz(tmp_path / "g.npz")
    back = VoxelGrid.from_npz(tmp_path / "g.npz")
    assert np.array_equal(back.features, g.features) and back.channel_names == g.channel_names
    assert np.allclose(back.spec.origin, g.spec.origin)
    with np.load(tmp_path / "g.npz") as z:
        assert {"features", "labels", "origin", "spacing", "channel_names", "label_names"} <= set(z.files)


@pytest.mark.parametrize("center", [(1.5, -2.0, 3.0), (0.123, 4.567, -8.91)])
def test_ccp4_round_trip(tmp_path, center):
    spec = GridSpec(center, 12.0, 0.5)
    x = np.asarray(center)[None] + np.array([[2.1, -1.3, 1.4]])
    g = grid_density(x, np.array([1.6]), np.ones((1, 1), bool), spec)[0]
    f = tmp_path / "m.ccp4"
    write_ccp4(f, g, spec.origin, spec.resolution)
    arr, origin, spacing = read_ccp4(f)
    assert arr.shape == g.shape and np.allclose(arr, g)
    assert np.allclose(origin, spec.origin, atol=1e-4) and np.allclose(spacing, 0.5)
    i = spec.nearest_index(x[0])
    assert arr[tuple(i)] == arr.max()  # the atom's peak is at its Å position


def test_ccp4_gemmi_places_aligned_map_over_structure(tmp_path):
    """gemmi, reading the map the crystallographic way (full cell + start indices), interpolates the
    atom's peak value at the atom's Å position: the map overlays the structure."""
    import gemmi

    x = np.array([[10.37, 20.11, -5.23]])
    spec = GridSpec.around_ligand(x, size=12, resolution=0.5)
    g = grid_density(x, np.array([1.6]), np.ones((1, 1), bool), spec)[0]
    f = tmp_path / "m.ccp4"
    write_ccp4(f, g, spec.origin, spec.resolution)
    m = gemmi.read_ccp4_map(str(f))
    m.setup(float("nan"))
    from scipy.ndimage import map_coordinates

    for p in (x[0], x[0] + [0.9, -0.4, 0.3], x[0] + [-1.7, 0.2, 1.1]):
        ours = map_coordinates(g, spec.to_index(p)[:, None], order=1)[0]  # trilinear in our frame
        got = m.grid.interpolate_value(gemmi.Position(*p))
        assert got == pytest.approx(float(ours), abs=1e-5)
        assert got == pytest.approx(density_profile(np.linalg.norm(p - x[0]) / 1.6), abs=0.15)


def test_ccp4_aligned_map_uses_start_indices(tmp_path):
    import gemmi

    spec = GridSpec.around_ligand(np.array([[10.3, 20.1, -5.2]]), size=8, resolution=0.5)
    f = tmp_path / "a.ccp4"
    write_ccp4(f, np.zeros(spec.shape, np.float32), spec.origin, spec.resolution)
    m = gemmi.read_ccp4_map(str(f))
    start = [m.header_i32(w) for w in (5, 6, 7)]
    assert np.allclose(np.array(start) * 0.5, spec.origin)
    assert [m.header_float(w) for w in (50, 51, 52)] == [0.0, 0.0, 0.0]


def test_ccp4_bad_files(tmp_path):
    with pytest.raises(PocketvoxError, match="not found"):
        read_ccp4(tmp_path / "missing.ccp4")
    (tmp_path / "bad.ccp4").write_bytes(b"\x00\x01" * 2000)
    with pytest.raises(PocketvoxError, match="bad.ccp4"):
        read_ccp4(tmp_path / "bad.ccp4")


def test_label_sphere_voxel_count_and_clipping():
    spec = GridSpec((0.0, 0.0, 0.0), 10.0, 1.0)
    pts = np.random.default_rng(0).uniform(-0.5, 0.5, (400, 3))
    counts = [int(label_grid(p[None], np.ones((1, 1), bool), spec).sum()) for p in pts]
    assert min(counts) >= 8 and max(counts) <= 19  # the documented range at 1.0 Å, radius 1.5 Å
    # a point past the box edge labels only the voxels inside it, without error
    edge = label_grid(np.array([[5.2, 0.0, 0.0]]), np.ones((1, 1), bool), spec)
    assert 0 < edge.sum() < min(counts) and edge[0, -1].any()
