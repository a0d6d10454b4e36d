"""Batch screening: rank docked poses of ligand libraries by the interactions predicted for a pocket.

Python API::

    from pocketvox.apps.screen import pocket_maps, run_screen
    maps = pocket_maps("receptor.pdb", ligand="E20:A:2001")      # the network runs once
    summary = run_screen(maps, ["poses.sdf.gz"], "hits.csv", jobs=2)

Job layout (all under ``<RESULTS>.screen/`` until the run completes):

* ``manifest.json`` — inputs (library paths, sizes, mtimes), batch size and score parameters; a
  ``--resume`` with other inputs is refused.
* ``maps.npz`` — the pocket maps and receptor atoms, so a resumed run scores against exactly the
  same maps without running the network again.
* ``shards/chunk-NNNNNNNN.pkl`` — per-molecule best rows and error rows of one chunk of ``B``
  records, each written atomically (temporary file, fsync, rename).
* ``journal.log`` — indices of completed chunks, appended and fsynced after their shard is in place.

A chunk counts as done only when it is in the journal *and* its shard exists, so a ``kill -9`` at any
point loses at most the chunks in flight; ``--resume`` recomputes those and nothing else. Chunks are
fixed by the inputs and ``B`` alone, and each chunk's computation is deterministic, so local, ``-j N``
and Ray runs, interrupted or not, merge into identical results. The final results and errors files
are written atomically and the job folder is then removed.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pocketvox.apps.screen_read import Chunk, iter_chunks, type_chunk, vdw_radii
from pocketvox.apps.screen_score import PocketMaps, ScoreParams, score_batch
from pocketvox.errors import ModelError, PocketvoxError

SHARD_VERSION = 1


class ScreenError(PocketvoxError):
    """A screening job cannot start or resume (bad options, mismatched checkpoint)."""


# ------------------------------------------------------------------------------------ pocket maps
def pocket_maps(receptor, pocket=None, ligand=None, center=None, device: str = "cpu", model=None,
                maps_file=None, box: float | None = None) -> PocketMaps:
    """The pocket's predicted interaction maps plus the receptor's heavy atoms.

    Exactly one of ``pocket`` (ligand file in the receptor's frame), ``ligand`` ('RES:CHAIN:NUM' in
    the receptor file) or ``center`` ((3,) Å) places the pocket. ``maps_file`` (.npz from
    :meth:`PocketMaps.save`) skips the network and uses stored maps; the receptor still gives the
    clash atoms. ``maps_file="geometric"`` builds model-free maps from the receptor
    (:mod:`pocketvox.apps.screen_maps`). ``box`` (Å) overrides the map cube's edge (default: the
    model's training box, 24 Å for geometric maps); the fully convolutional network is then applied
    tile by tile to the larger grid.
    """
    from pocketvox.structure.io import load_complex, read_structure, receptor_table

    given = sum(x is not None for x in (pocket, ligand, center))
    if given != 1 and maps_file is None:
        raise ScreenError("place the pocket with exactly one of --pocket FILE, --ligand RES:CHAIN:NUM "
                          "or --center x,y,z")
    cx = None
    if center is not None or given == 0:
        protein = receptor_table(read_structure(receptor))
        c = None if center is None else np.asarray(center, np.float64).reshape(3)
    else:
        cx = load_complex(receptor, ligand=ligand, ligand_file=pocket)
        protein = cx.protein
        lig = cx.ligand.coords[cx.ligand.heavy]
        c = 0.5 * (lig.min(0) + lig.max(0))
    heavy = protein.heavy
    rec_xyz, rec_rad = protein.coords[heavy], vdw_radii(protein.element[heavy])
    if maps_file == "geometric":
        from pocketvox.apps.screen_maps import geometric_maps

        if c is None:
            raise ScreenError("--maps geometric needs the pocket: --pocket, --ligand or --center")
        return geometric_maps(protein, c, size=box or 24.0)
    if maps_file is not None:
        m = PocketMaps.load(maps_file)
        return PocketMaps(m.probs, m.origin, m.resolution, m.class_names, rec_xyz, rec_rad,
                          info={"maps": str(maps_file)})
    try:
        from pocketvox.apps.inference import Predictor
    except ImportError as e:
        raise ModelError(f"the pocket predictor is not available ({e}); "
                         "use --maps geometric or a maps .npz") from e
    pred = Predictor.load(model, device=device)
    # as `pocketvox predict` does in pocket mode: the complex places the box, the network sees the
    # protein only
    target = cx if cx is not None else protein
    out = pred.predict(target, center=None if cx is not None else c, mode="pocket")
    probs = out.probs.detach().cpu().numpy() if hasattr(out.probs, "detach") else np.asarray(out.probs)
    if box is not None and abs(box - out.spec.size) > 1e-9:
        from pocketvox.grid.spec import GridSpec

        spec = GridSpec(out.spec.center, box, out.spec.resolution).snapped()
        probs = pred.predict_volume(pred.features(target, spec, "pocket"))
        out = type(out)(probs, spec, out.class_names, out.thresholds, out.mode)
    info = pred.info() if hasattr(pred, "info") else {}
    return PocketMaps(probs, out.spec.origin, out.spec.resolution, tuple(out.class_names), rec_xyz, rec_rad,
                      info={"model": json.loads(json.dumps(info, default=str)),
                            "center": [float(v) for v in out.spec.center]})


# ------------------------------------------------------------------------------------ chunk work
def process_chunk(chunk: Chunk, maps: PocketMaps, params: ScoreParams, keep_tags: bool = False,
                  device: str = "cpu", rescorer=None) -> dict:
    """Type and score one chunk; reduce to one row per molecule name (its best pose in the chunk).

    Returns a shard: ``{"chunk", "start", "n", "rows": {column: list}, "errors": [(index, name,
    reason, file)]}``. ``rows`` keeps molecules with no scored pose (score NaN) so that pose numbers
    stay right when a molecule's poses span chunks.
    """
    batch = type_chunk(chunk, keep_tags=keep_tags)
    sc = score_batch(batch, maps, params, device=device)
    term_names = maps.class_names
    if rescorer is not None:  # --rescore cnn: the network's terms replace the maps' (same clash, errors)
        from pocketvox.apps.screen_score import combine

        term_names = rescorer.class_names
        sc.terms = rescorer.terms(batch, sc.ok)
        sc.score = combine(sc.terms, sc.clash, batch.n_heavy, term_names, params)
        sc.score[~sc.ok] = np.nan
    names = np.asarray(batch.name, dtype=object)
    P = len(names)
    # first-appearance order of names in the chunk, pose ordinal of each record within its name
    uniq, first, inv = np.unique(names, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(uniq), np.int64)
    rank[order] = np.arange(len(uniq))
    grp = rank[inv]  # group id by first appearance
    ordinal = np.zeros(P, np.int64)
    counts = np.zeros(len(uniq), np.int64)
    if P:
        srt = np.argsort(grp, kind="stable")
        g = grp[srt]
        starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
        pos = np.arange(P) - np.repeat(starts, np.diff(np.r_[starts, P]))
        ordinal[srt] = pos + 1
        counts = np.bincount(grp, minlength=len(uniq))
    # best scored pose per group: max score, first record on ties
    s = np.where(sc.ok, sc.score, -np.inf)
    key = np.lexsort((np.arange(P), -s, grp))  # by group, score desc, record asc
    best = np.full(len(uniq), -1, np.int64)
    if P:
        gk = grp[key]
        firsts = np.r_[0, np.flatnonzero(np.diff(gk)) + 1]
        best[gk[firsts]] = key[firsts]
    has = sc.ok[best]
    gids = np.arange(len(uniq))
    rows = {
        "name": [str(uniq[order[k]]) for k in gids],
        "n": counts.tolist(),
        "score": np.where(has, sc.score[best], np.nan).tolist(),
        "local_pose": np.where(has, ordinal[best], 0).tolist(),
        "index": np.where(has, batch.index[best], -1).tolist(),
        "clash": np.where(has, sc.clash[best], np.nan).tolist(),
    }
    for k, cname in enumerate(term_names):
        rows[f"term_{cname}"] = np.where(has, sc.terms[best, k], np.nan).tolist()
    if keep_tags:
        rows["tags"] = [batch.tags[b] if h else {} for b, h in zip(best, has)]
    errs = [(int(batch.index[i]), str(names[i]), reason, chunk.file)
            for i, reason in sorted(sc.errors.items())]
    return {"version": SHARD_VERSION, "chunk": chunk.index, "start": chunk.start, "n": chunk.n,
            "rows": rows, "errors": errs}


# worker-process state (-j N): maps loaded once per process
_W: dict = {}


def _worker_init(maps_path, params, keep_tags, device, rescorer=None):
    _W.update(maps=PocketMaps.load(maps_path), params=params, keep_tags=keep_tags, device=device,
              rescorer=rescorer)


def _worker_run(chunk: Chunk) -> dict:
    return process_chunk(chunk, _W["maps"], _W["params"], _W["keep_tags"], _W["device"], _W["rescorer"])


def _ray_run(maps, params, keep_tags, device, chunk, rescorer=None):
    return process_chunk(chunk, maps, params, keep_tags, device, rescorer)


# ------------------------------------------------------------------------------------ job folder
@dataclass
class ScreenSummary:
    results: str
    errors: str
    records: int
    molecules: int
    n_errors: int
    seconds: float
    resumed_chunks: int

    @property
    def poses_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("nan")


def job_dir(out) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".screen")


def errors_path(out) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".errors.csv")


def _manifest(libraries, batch_size, keep_tags, params, maps: PocketMaps) -> dict:
    libs = []
    for p in libraries:
        st = Path(p).stat()
        libs.append({"path": str(Path(p).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return {"version": SHARD_VERSION, "libraries": libs, "batch_size": int(batch_size),
            "keep_tags": bool(keep_tags), "params": json.loads(json.dumps(asdict(params))),
            "classes": list(maps.class_names)}


def _read_journal(path: Path) -> set[int]:
    if not path.exists():
        return set()
    text = path.read_text(errors="replace")
    # a line torn by a kill has no newline yet: only complete lines count
    return {int(x) for x in text.split("\n")[:-1] if x.strip().isdigit()}


class _Journal:
    def __init__(self, path: Path):
        self.f = open(path, "a")

    def add(self, idx: int):
        self.f.write(f"{idx}\n")
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self):
        self.f.close()


def _shard_path(jd: Path, idx: int) -> Path:
    return jd / "shards" / f"chunk-{idx:08d}.pkl"


def _write_shard(jd: Path, shard: dict):
    from pocketvox.cli.common import atomic_write_bytes

    atomic_write_bytes(_shard_path(jd, shard["chunk"]), pickle.dumps(shard, protocol=pickle.HIGHEST_PROTOCOL))


# ------------------------------------------------------------------------------------ the run
def run_screen(maps: PocketMaps | None, libraries, out, *, batch_size: int = 1000, jobs: int = 1,
               device: str = "cpu", ray_address: str | None = None, keep_tags: bool = False,
               resume: bool = False, params: ScoreParams | None = None, progress: bool = True,
               maps_factory=None, max_chunks: int | None = None, rescorer=None) -> ScreenSummary:
    """Screen ``libraries`` against ``maps``; write ``out`` (CSV, or Parquet for ``.parquet``).

    ``maps`` may be None with ``maps_factory`` (a callable returning :class:`PocketMaps`), which is
    only called when no stored maps can be resumed. ``max_chunks`` stops after that many new chunks
    (for tests of interrupted runs). ``rescorer`` (:func:`pocketvox.apps.screen_cnn.cnn_rescorer`)
    rescores every pose with the complex-mode network; ``params.rescore`` must then be 'cnn'.
    Returns a :class:`ScreenSummary`.
    """
    t0 = time.perf_counter()
    params = params or ScoreParams()
    if (rescorer is not None) != (params.rescore == "cnn"):
        from dataclasses import replace

        params = replace(params, rescore="cnn" if rescorer is not None else "maps")
    out = Path(out)
    libraries = [str(p) for p in libraries]
    if not libraries:
        raise ScreenError("no library given")
    if batch_size < 1:
        raise ScreenError(f"--batch-size must be >= 1, got {batch_size}")
    if jobs < 1:
        raise ScreenError(f"-j must be >= 1, got {jobs}")
    from pocketvox.apps.screen_read import open_library

    for p in libraries:
        open_library(p).close()  # missing, empty or binary files fail here, before any work
    jd = job_dir(out)
    maps_path = jd / "maps.npz"
    if resume and jd.exists() and maps_path.exists():
        maps = PocketMaps.load(maps_path)
        manifest = _manifest(libraries, batch_size, keep_tags, params, maps)
        old = json.loads((jd / "manifest.json").read_text()) if (jd / "manifest.json").exists() else None
        if old != manifest:
            diff = [k for k in manifest if old is None or old.get(k) != manifest[k]]
            raise ScreenError(f"{jd}: cannot resume, the checkpoint was made with other {', '.join(diff)}; "
                              "rerun without --resume to start over")
    else:
        if resume and out.exists() and not jd.exists():
            raise ScreenError(f"{out}: nothing to resume, the screen already finished (no {jd.name} folder)")
        if jd.exists():
            shutil.rmtree(jd)
        if maps is None:
            if maps_factory is None:
                raise ScreenError("no pocket maps given")
            maps = maps_factory()
        (jd / "shards").mkdir(parents=True, exist_ok=True)
        maps.save(maps_path)
        from pocketvox.cli.common import atomic_write_text

        atomic_write_text(jd / "manifest.json", json.dumps(_manifest(libraries, batch_size, keep_tags, params,
                                                                     maps), indent=1))
    (jd / "shards").mkdir(parents=True, exist_ok=True)
    done = {i for i in _read_journal(jd / "journal.log") if _shard_path(jd, i).exists()}
    resumed = len(done)

    stream_errors: list = []

    def on_error(index, file, reason):
        stream_errors.append((index, "", reason, file))

    chunks = (c for c in iter_chunks(libraries, batch_size, on_error=on_error) if c.index not in done)
    if max_chunks is not None:
        import itertools

        chunks = itertools.islice(chunks, max_chunks)
    journal = _Journal(jd / "journal.log")
    bar = _progress(progress)
    n_records = 0
    try:
        def finished(shard):
            nonlocal n_records
            _write_shard(jd, shard)
            journal.add(shard["chunk"])
            n_records += shard["n"]
            bar.update(shard["n"])

        if ray_address is not None:
            _run_ray(chunks, maps, params, keep_tags, device, ray_address, jobs, finished, rescorer)
        elif jobs > 1:
            _run_pool(chunks, maps_path, params, keep_tags, device, jobs, finished, rescorer)
        else:
            for c in chunks:
                finished(process_chunk(c, maps, params, keep_tags, device, rescorer))
    finally:
        journal.close()
        bar.close()
    if max_chunks is not None:
        return ScreenSummary(str(out), str(errors_path(out)), n_records, 0, 0, time.perf_counter() - t0,
                             resumed)
    term_names = rescorer.class_names if rescorer is not None else maps.class_names
    mols, n_err = _merge(jd, out, term_names, keep_tags, stream_errors)
    shutil.rmtree(jd, ignore_errors=True)
    return ScreenSummary(str(out), str(errors_path(out)), n_records, mols, n_err, time.perf_counter() - t0,
                         resumed)


def _progress(enabled: bool):
    from tqdm import tqdm

    return tqdm(unit="pose", unit_scale=True, desc="screening", disable=not enabled, smoothing=0.1,
                dynamic_ncols=True, leave=False)


def _run_pool(chunks, maps_path, params, keep_tags, device, jobs, finished, rescorer=None):
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")  # no fork: the parent may hold torch/OpenMP threads
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init,
                             initargs=(str(maps_path), params, keep_tags, device, rescorer)) as ex:
        pending = set()
        for c in chunks:
            pending.add(ex.submit(_worker_run, c))
            if len(pending) >= 2 * jobs:  # bounded: memory stays flat in library size
                ready, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in ready:
                    finished(f.result())
        for f in pending:
            finished(f.result())


def _run_ray(chunks, maps, params, keep_tags, device, address, jobs, finished, rescorer=None):
    try:
        import ray
    except ImportError as e:
        raise ScreenError("--ray needs Ray: pip install 'pocketvox[ray]' (or 'ray[default]')") from e
    started = False
    if not ray.is_initialized():
        kw = {"include_dashboard": False, "log_to_driver": False}
        if address in (None, "", "local"):
            ray.init(num_cpus=jobs if jobs > 1 else None, **kw)
        else:
            ray.init(address=address, **kw)
        started = True
    try:
        task = ray.remote(_ray_run)
        maps_ref = ray.put(maps)
        total = int(ray.cluster_resources().get("CPU", 1))
        pending = []
        for c in chunks:
            pending.append(task.remote(maps_ref, params, keep_tags, device, c, rescorer))
            if len(pending) >= 2 * total:
                ready, pending = ray.wait(pending, num_returns=1)
                for r in ready:
                    finished(ray.get(r))
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for r in ready:
                finished(ray.get(r))
    finally:
        if started:
            ray.shutdown()


# ------------------------------------------------------------------------------------ merge
def _merge(jd: Path, out: Path, class_names, keep_tags: bool, stream_errors: list) -> tuple[int, int]:
    """Shards -> one row per molecule (best pose over all chunks), sorted best first; errors CSV."""
    import pandas as pd

    frames, errs = [], list(stream_errors)
    for p in sorted((jd / "shards").glob("chunk-*.pkl")):
        with open(p, "rb") as f:
            shard = pickle.load(f)
        df = pd.DataFrame(shard["rows"])
        df["chunk"] = shard["chunk"]
        frames.append(df)
        errs.extend(shard["errors"])
    term_cols = [f"term_{c}" for c in class_names]
    cols = ["name", "n", "score", "local_pose", "index", "clash", *term_cols]
    cols += ["tags"] if keep_tags else []
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({c: [] for c in [*cols, "chunk"]})
    df = df.sort_values(["chunk"], kind="stable")
    # poses of a molecule seen in earlier chunks shift its pose numbers
    df["before"] = df.groupby("name", sort=False)["n"].cumsum() - df["n"]
    n_poses = df.groupby("name", sort=False)["n"].sum()
    df = df[df["score"].notna()].copy()
    df["best_pose"] = (df["before"] + df["local_pose"]).astype(np.int64)
    df = df.sort_values(["score", "index"], ascending=[False, True], kind="stable")
    df = df.drop_duplicates("name", keep="first")
    df["n_poses"] = df["name"].map(n_poses).astype(np.int64)
    res = df[["name", "score", "best_pose", "n_poses", "index", "clash", *term_cols]].copy()
    res["index"] = res["index"].astype(np.int64)
    if keep_tags:
        tags = pd.DataFrame(df["tags"].tolist(), index=df.index)
        tags = tags[[c for c in tags.columns if c not in res.columns]]
        res = pd.concat([res, tags], axis=1)
    res = res.reset_index(drop=True)
    _write_table(res, out)
    err = pd.DataFrame(errs, columns=["index", "name", "reason", "file"]).sort_values("index", kind="stable")
    from pocketvox.cli.common import atomic_write_text

    atomic_write_text(errors_path(out), err.to_csv(index=False))
    return len(res), len(err)


def _write_table(df, out: Path):
    from pocketvox.cli.common import atomic_write_bytes, atomic_write_text

    if out.suffix.lower() == ".parquet":
        import io

        try:
            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
        except ImportError as e:
            raise ScreenError(f"{out}: writing Parquet needs pyarrow "
                              "(pip install 'pocketvox[parquet]')") from e
        atomic_write_bytes(out, buf.getvalue())
    else:
        atomic_write_text(out, df.to_csv(index=False))


def read_results(path):
    """Read a results file written by :func:`run_screen` (CSV or Parquet) as a DataFrame."""
    import pandas as pd

    path = Path(path)
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
