"""Dataset cache build (PoseBusters layout), split by sequence identity, molecular adapter grids."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from pocketvox.apps.dataset import _bits, discover, sequence_split, unbits

IDS = ("5SAK", "5SB2", "5SD5", "5SIS")


@pytest.fixture(scope="module")
def small_src(tmp_path_factory, posebusters_dir):
    src = tmp_path_factory.mktemp("pb")
    for i in IDS:
        os.symlink(posebusters_dir / i, src / i)
    bad = src / "BAD1"
    bad.mkdir()
    (bad / "BAD1_protein.pdb").write_text("")
    (bad / "BAD1_ligand.sdf").write_bytes(b"\x00\x01binary")
    (src / "split.json").write_text(json.dumps({"train": list(IDS[:2]) + ["BAD1"], "val": [IDS[2]],
                                                "test": [IDS[3]], "method": "test split"}))
    return src


@pytest.fixture(scope="module")
def small_cache(small_src, tmp_path_factory):
    from pocketvox.apps.dataset import build_cache

    out = tmp_path_factory.mktemp("cache") / "c.h5"
    errors = []
    res = build_cache(small_src, out, progress=False, on_error=lambda s, e: errors.append(s.id))
    return out, res, errors


def test_bits_roundtrip():
    m = np.random.default_rng(0).random((50, 16)) < 0.3
    assert np.array_equal(unbits(_bits(m), 16), m)


def test_discover_layouts(tmp_path):
    (tmp_path / "AAA").mkdir()
    (tmp_path / "AAA" / "AAA_protein.pdb").write_text("x")
    (tmp_path / "AAA" / "AAA_ligand.sdf").write_text("x")
    (tmp_path / "1abc.cif").write_text("x")
    found = {s.id: s for s in discover(tmp_path)}
    assert set(found) == {"AAA", "1abc"}
    assert found["AAA"].ligand_file is not None and found["1abc"].ligand_file is None


def test_sequence_split_keeps_similar_proteins_together():
    rng = np.random.default_rng(0)
    aa = np.array(list("ACDEFGHIKLMNPQRSTVWY"))

    def seq(n):
        return "".join(rng.choice(aa, n))

    fam = seq(120)
    mutant = list(fam)
    for j in rng.choice(120, 20, replace=False):
        mutant[j] = "W" if mutant[j] != "W" else "A"
    chains = {"F1": {"A": fam}, "F2": {"A": "".join(mutant)}}
    chains.update({f"U{i}": {"A": seq(100)} for i in range(8)})
    s1 = sequence_split(chains, seed=1)
    s2 = sequence_split(chains, seed=1)
    assert s1 == s2  # reproducible
    where = {i: k for k in ("train", "val", "test") for i in s1[k]}
    assert where["F1"] == where["F2"]  # 83 % identity: same cluster, same split
    assert sorted(where) == sorted(chains)


def test_build_cache_reports_bad_and_uses_split(small_cache):
    from pocketvox.apps.dataset import read_cache

    path, res, errors = small_cache
    assert res["n_ok"] == 4
    assert [f[0] for f in res["failed"]] == ["BAD1"] and errors == ["BAD1"]
    items, info = read_cache(path)
    assert info["split"]["train"] == list(IDS[:2]) and info["split"]["val"] == [IDS[2]]
    it = items["5SAK"]
    lig = it.types[:, 8:].any(1)
    assert lig.sum() > 5 and (~lig).sum() > 500
    # label points are ligand-side points: each sits on a ligand atom or within a ring (≤ 1.5 Å)
    d = np.linalg.norm(it.label_points[:, None] - it.coords[lig][None], axis=-1).min(1)
    assert len(d) > 0 and d.max() < 1.5
    # protein atoms stored only within the pocket radius of the centre
    from pocketvox.apps.dataset import POCKET_RADIUS

    assert np.linalg.norm(it.coords[~lig] - it.center, axis=1).max() <= POCKET_RADIUS + 1e-3


def test_read_cache_rejects_bad_files(tmp_path):
    from pocketvox.apps.dataset import read_cache
    from pocketvox.errors import InputFileError

    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(InputFileError, match="x.h5"):
        read_cache(tmp_path / "x.h5")
    with pytest.raises(InputFileError, match="not found"):
        read_cache(tmp_path / "none.h5")


def test_adapter_grids_modes_and_augmentation(small_cache):
    pytest.importorskip("torch")
    from pocketvox.adapters.molecular import MolecularAdapter
    from pocketvox.volume.adapter import VolumeAdapter, get_adapter

    path, _, _ = small_cache
    a = get_adapter("molecular", cache=str(path))
    assert isinstance(a, MolecularAdapter) and isinstance(a, VolumeAdapter)
    ds = a.datasets(seed=3)
    assert len(ds["train"]) == 2 and len(ds["val"]) == 2  # val holds each complex in both modes
    v_c, v_p = ds["val"][0], ds["val"][1]
    assert v_c["key"].endswith(":complex") and v_p["key"].endswith(":pocket")
    assert v_c["inputs"].shape == (16, 24, 24, 24) and v_c["targets"].shape == (3, 24, 24, 24)
    assert float(v_c["inputs"][8:].sum()) > 0 and float(v_p["inputs"][8:].sum()) == 0.0
    assert np.array_equal(v_c["inputs"][:8].numpy(), v_p["inputs"][:8].numpy())
    assert np.array_equal(v_c["targets"].numpy(), v_p["targets"].numpy())
    tr = ds["train"]
    tr.set_epoch(0)
    a0 = tr[0]["inputs"].numpy()
    assert np.array_equal(a0, tr[0]["inputs"].numpy())  # a function of (seed, epoch, index)
    tr.set_epoch(1)
    assert not np.array_equal(a0, tr[0]["inputs"].numpy())  # new epoch, new rotation
