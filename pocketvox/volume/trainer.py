"""The domain-free training loop: seeds, progress, metrics log, best/last checkpoints, exact resume,
AMP on CUDA and DistributedDataParallel under ``torchrun`` (gloo on CPU, NCCL on CUDA).

Determinism: epoch ``e`` shuffles with a generator seeded by ``(seed, e)``, datasets with
``set_epoch`` draw their augmentation from ``(seed, e, index)``, and the global torch RNG (dropout) is
re-seeded from ``(seed, e, rank)`` at the start of each epoch. A run resumed from ``last.pt`` after
epoch ``e`` therefore repeats epochs ``e+1…`` exactly as an uninterrupted run would (on the same
device and thread count).

Outputs in ``out_dir``: ``last.pt`` and ``best.pt`` (see :mod:`pocketvox.volume.io`),
``metrics.csv`` and ``metrics.jsonl`` (one row per epoch), ``config.json``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from pocketvox.volume.io import atomic_write_bytes, load_checkpoint, save_checkpoint
from pocketvox.volume.losses import LossConfig, make_loss
from pocketvox.volume.metrics import ScoreHistogram, scores_from_counts
from pocketvox.volume.unet import UNet3D, UNetConfig


@dataclass
class TrainConfig:
    """Every option of ``pocketvox train`` (TOML/YAML keys and ``--flags`` have these names).

    Units: lr per step; times in minutes. ``adapter_options`` go to the adapter's constructor.
    """

    adapter: str = "molecular"
    out_dir: str = "runs/train"
    epochs: int = 20
    batch_size: int = 4
    lr: float = 2e-3
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    scheduler: str = "cosine"  # 'cosine' | 'none'
    seed: int = 0
    device: str = "auto"  # 'auto' | 'cpu' | 'cuda' | 'cuda:1' ...
    amp: bool = True  # mixed precision (bfloat16/float16 autocast); CUDA only
    threads: int = 0  # torch intra-op threads on CPU (0: torch default)
    num_workers: int = 0
    max_batches_per_epoch: int = 0  # 0: the whole training set each epoch
    max_minutes: float = 0.0  # stop after the epoch that crosses this wall-clock budget (0: none)
    val_every: int = 1
    select_metric: str = "auto"  # 'auto': mean_jaccard / mean_dice (max) or rmse (min)
    resume: bool = False
    # model
    width: int = 16
    depth: int = 3
    norm: str = "batch"
    dropout: float = 0.0
    # loss
    loss: str = "auto"  # 'auto' picks by task: bce_jaccard / dice_ce / mse
    pos_weight: float | list = 5.0  # one value, or one per target class (config files only)
    jaccard_weight: float = 1.0
    dice_weight: float = 1.0
    adapter_options: dict = field(default_factory=dict)

    @staticmethod
    def from_dict(d: dict) -> TrainConfig:
        from pocketvox.errors import PocketvoxError

        names = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise PocketvoxError(f"unknown training option(s): {', '.join(unknown)}")
        return TrainConfig(**d)

    def to_dict(self) -> dict:
        return asdict(self)


def load_config_file(path) -> dict:
    """Read a TOML or YAML training config into a flat dict of :class:`TrainConfig` keys.

    Layout: top-level keys and the tables ``[train]``, ``[model]``, ``[loss]`` are merged; the table
    ``[adapter]`` becomes ``adapter_options`` (its ``name`` key, if any, sets ``adapter``).
    """
    from pocketvox.errors import InputFileError

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: config file not found")
    text = path.read_text()
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text) or {}
        else:
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib
            raw = tomllib.loads(text)
    except Exception as e:  # noqa: BLE001 - any parse error is the user's file
        raise InputFileError(f"{path}: cannot parse config ({type(e).__name__}: {e})") from None
    if not isinstance(raw, dict):
        raise InputFileError(f"{path}: config must be a table of options")
    flat: dict = {}
    for k, v in raw.items():
        if k in ("train", "model", "loss") and isinstance(v, dict):
            flat.update(v)
        elif k == "adapter" and isinstance(v, dict):
            v = dict(v)
            if "name" in v:
                flat["adapter"] = v.pop("name")
            flat["adapter_options"] = v
        else:
            flat[k] = v
    return flat


# ---------------------------------------------------------------------------------- distributed
def _dist_env() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return world, rank, local


def _resolve_device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(name)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank)
    return dev


def versions() -> dict:
    import pocketvox

    return {"pocketvox": pocketvox.__version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def _collate(items: list[dict]) -> dict:
    out = {"inputs": torch.stack([it["inputs"] for it in items]),
           "targets": torch.stack([it["targets"] for it in items]),
           "key": [it.get("key", "") for it in items]}
    if all("mask" in it and it["mask"] is not None for it in items):
        out["mask"] = torch.stack([it["mask"] for it in items])
    return out


def task_loss_name(task: str) -> str:
    return {"multilabel": "bce_jaccard", "multiclass": "dice_ce", "regression": "mse"}[task]


@torch.no_grad()
def evaluate_volumes(model, loader, task: str, target_names, device, loss_fn=None, thresholds=None,
                     amp_dtype=None) -> dict:
    """Metrics of ``model`` over ``loader`` (a domain-free summary for validation).

    multilabel: per class Jaccard/precision/recall at the Jaccard-maximising threshold (or the given
    ``thresholds``), AP, ``mean_jaccard`` and the chosen ``thresholds``; multiclass: per class Dice at
    argmax and ``mean_dice`` (classes 1..K-1); regression: ``rmse`` per channel and overall.
    """
    model.eval()
    k = len(target_names)
    hist = ScoreHistogram(k) if task == "multilabel" else None
    counts = np.zeros((k, 3), np.int64)
    sq, n_vox, loss_sum, n_batches = np.zeros(k), 0, 0.0, 0
    for batch in loader:
        x = batch["inputs"].to(device, non_blocking=True)
        y = batch["targets"].to(device, non_blocking=True)
        m = batch.get("mask")
        m = m.to(device) if m is not None else None
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(x)
        logits = logits.float()
        if loss_fn is not None:
            loss_sum += float(loss_fn(logits, y, m))
            n_batches += 1
        if task == "multilabel":
            probs = torch.sigmoid(logits)
            for b in range(x.shape[0]):
                hist.update(probs[b], y[b], None if m is None else m[b, 0])
        elif task == "multiclass":
            pred = logits.argmax(1)
            idx = y.argmax(1) if y.dim() == logits.dim() else y.long()
            keep = torch.ones_like(pred, dtype=torch.bool) if m is None else m[:, 0] > 0
            for c in range(k):
                p, t = (pred == c) & keep, (idx == c) & keep
                counts[c] += [int((p & t).sum()), int((p & ~t).sum()), int((~p & t).sum())]
        else:
            w = torch.ones_like(logits[:, :1]) if m is None else m
            sq += ((logits - y.float()) ** 2 * w).sum((0, 2, 3, 4)).cpu().numpy()
            n_vox += int(w.sum())
    out: dict = {}
    if n_batches:
        out["val_loss"] = loss_sum / n_batches
    if task == "multilabel":
        th = hist.best_thresholds() if thresholds is None else np.broadcast_to(np.asarray(thresholds, float), (k,))
        scores = hist.at(th)
        ap = hist.average_precision()
        for i, name in enumerate(target_names):
            out[name] = {**{kk: round(v, 4) for kk, v in scores[i].items() if kk != "dice"},
                         "ap": None if math.isnan(ap[i]) else round(float(ap[i]), 4)}
        out["mean_jaccard"] = round(float(np.mean([scores[i]["jaccard"] for i in range(k)])), 4)
        out["thresholds"] = [round(float(t), 4) for t in th]
    elif task == "multiclass":
        for i, name in enumerate(target_names):
            out[name] = {kk: round(v, 4) for kk, v in scores_from_counts(*counts[i]).items()}
        fg = range(1, k) if k > 1 else range(k)
        out["mean_dice"] = round(float(np.mean([out[target_names[i]]["dice"] for i in fg])), 4)
    else:
        rmse = np.sqrt(sq / max(n_vox, 1))
        for i, name in enumerate(target_names):
            out[name] = {"rmse": float(rmse[i])}
        out["rmse"] = float(np.sqrt(sq.sum() / max(n_vox * k, 1)))
    return out


class _DictConfig(dict):
    """Model config of an adapter-built network (a plain dict with the ``to_dict`` of UNetConfig)."""

    def to_dict(self) -> dict:
        return dict(self)


class Trainer:
    """Train a :class:`UNet3D` (or the adapter's own network, see ``_build_model``) on an adapter's datasets."""

    def __init__(self, config: TrainConfig, adapter=None, progress: bool = True, on_epoch_end=None):
        from pocketvox.volume.adapter import get_adapter

        self.on_epoch_end = on_epoch_end  # callable(epoch, row) after checkpoints are written

        self.cfg = config
        self.adapter = adapter if adapter is not None else get_adapter(config.adapter, **config.adapter_options)
        self.progress = progress
        self.world, self.rank, self.local_rank = _dist_env()
        self.device = _resolve_device(config.device, self.local_rank)
        self.out = Path(config.out_dir)

    # ------------------------------------------------------------------ helpers
    def _is_main(self) -> bool:
        return self.rank == 0

    def _select(self) -> tuple[str, bool]:
        """(metric name, higher is better)."""
        name = self.cfg.select_metric
        task = self.adapter.task
        if name == "auto":
            name = {"multilabel": "mean_jaccard", "multiclass": "mean_dice", "regression": "rmse"}[task]
        return name, name not in ("rmse", "val_loss")

    def _meta(self, metrics: dict | None, epoch: int) -> dict:
        meta = {
            "config": self.cfg.to_dict(),
            "model": self.model_config.to_dict(),
            "task": self.adapter.task,
            "adapter": self.adapter.name,
            "channel_names": list(self.adapter.channel_names),
            "target_names": list(self.adapter.target_names),
            "adapter_meta": self.adapter.metadata(),
            "versions": versions(),
            "epoch": epoch,
            "metrics": metrics or {},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        if metrics and "thresholds" in metrics:
            meta["thresholds"] = metrics["thresholds"]
        return meta

    def _log(self, row: dict) -> None:
        jl = self.out / "metrics.jsonl"
        with open(jl, "a") as f:
            f.write(json.dumps(row) + "\n")
        flat = {}
        for k, v in row.items():
            if isinstance(v, dict):
                for kk, vv in v.items():
                    flat[f"{k}.{kk}"] = vv
            elif isinstance(v, list):
                flat[k] = " ".join(str(x) for x in v)
            else:
                flat[k] = v
        path = self.out / "metrics.csv"
        rows = []
        if path.exists():
            with open(path) as f:
                rows = list(csv.DictReader(f))
        rows.append(flat)
        keys: list[str] = []
        for r in rows:
            keys += [k for k in r if k not in keys]
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
        atomic_write_bytes(path, buf.getvalue().encode())

    def _truncate_logs(self, last_epoch: int) -> None:
        """On resume, drop log rows of epochs after the checkpoint (a crash may have left some)."""
        jl = self.out / "metrics.jsonl"
        if jl.exists():
            keep = [ln for ln in jl.read_text().splitlines() if ln and json.loads(ln)["epoch"] <= last_epoch]
            atomic_write_bytes(jl, ("\n".join(keep) + ("\n" if keep else "")).encode())
        path = self.out / "metrics.csv"
        if path.exists():
            with open(path) as f:
                rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= last_epoch]
            import io

            buf = io.StringIO()
            if rows:
                w = csv.DictWriter(buf, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
            atomic_write_bytes(path, buf.getvalue().encode())

    def _build_model(self, train_ds):
        """(model, config with ``to_dict()``): the adapter's own network when it has a ``build_model``
        hook (e.g. a physics-constrained network whose output is not a per-voxel map), else a UNet3D.

        Hook contract: ``adapter.build_model(train_config, train_dataset) -> nn.Module`` whose
        ``config`` attribute is a JSON-able dict (stored in checkpoints as ``meta['model']``) from
        which the adapter can rebuild it; ``forward(inputs)`` maps the batched ``inputs`` to
        predictions shaped like the batched ``targets``.
        """
        cfg = self.cfg
        hook = getattr(self.adapter, "build_model", None)
        if callable(hook):
            model = hook(cfg, train_ds)
            return model, _DictConfig(dict(model.config))
        mc = UNetConfig(
            in_channels=len(self.adapter.channel_names), out_channels=len(self.adapter.target_names),
            width=cfg.width, depth=cfg.depth, norm=cfg.norm, dropout=cfg.dropout)
        return UNet3D(mc), mc

    # ------------------------------------------------------------------ main
    def fit(self) -> dict:
        """Train; returns {'best': metrics of best epoch, 'best_epoch', 'epochs_run', 'out_dir'}."""
        from torch.utils.data import DataLoader

        cfg = self.cfg
        if self.world > 1 and not torch.distributed.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend=backend)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        ds = self.adapter.datasets(seed=cfg.seed)
        train_ds, val_ds = ds["train"], ds.get("val")
        task = self.adapter.task
        model, self.model_config = self._build_model(train_ds)
        model = model.to(self.device)
        loss_cfg = LossConfig(name=task_loss_name(task) if cfg.loss == "auto" else cfg.loss,
                              pos_weight=cfg.pos_weight, jaccard_weight=cfg.jaccard_weight,
                              dice_weight=cfg.dice_weight)
        loss_fn = make_loss(loss_cfg)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
                 if cfg.scheduler == "cosine" else None)
        use_amp = cfg.amp and self.device.type == "cuda"
        amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if use_amp else None
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
        metric_name, higher = self._select()
        start_epoch, best_score, best_epoch, best_metrics = 0, None, -1, {}

        if self._is_main():
            self.out.mkdir(parents=True, exist_ok=True)
        last_path, best_path = self.out / "last.pt", self.out / "best.pt"
        if cfg.resume and last_path.exists():
            ck = load_checkpoint(last_path, map_location=self.device)
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            if sched is not None and ck.get("scheduler"):
                sched.load_state_dict(ck["scheduler"])
            if ck.get("scaler"):
                scaler.load_state_dict(ck["scaler"])
            start_epoch = int(ck["epoch"]) + 1
            best_score = ck.get("best_score")
            best_epoch = int(ck.get("best_epoch", -1))
            best_metrics = ck["meta"].get("best_metrics", {})
            if self._is_main():
                self._truncate_logs(start_epoch - 1)
        elif self._is_main():
            for name in ("metrics.csv", "metrics.jsonl"):
                (self.out / name).unlink(missing_ok=True)
        if self._is_main():
            atomic_write_bytes(self.out / "config.json", json.dumps(cfg.to_dict(), indent=2).encode())

        net = model
        sampler = None
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP
            from torch.utils.data.distributed import DistributedSampler

            net = DDP(model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            sampler = DistributedSampler(train_ds, num_replicas=self.world, rank=self.rank, shuffle=True,
                                         seed=cfg.seed, drop_last=False)
        val_loader = (DataLoader(val_ds, batch_size=cfg.batch_size, shuffle=False, collate_fn=_collate,
                                 num_workers=cfg.num_workers) if val_ds is not None and len(val_ds) else None)
        t_start = time.time()
        epochs_run = 0
        for epoch in range(start_epoch, cfg.epochs):
            torch.manual_seed(cfg.seed * 100003 + epoch * 1009 + self.rank)
            if hasattr(train_ds, "set_epoch"):
                train_ds.set_epoch(epoch)
            if sampler is not None:
                sampler.set_epoch(epoch)
                loader = DataLoader(train_ds, batch_size=cfg.batch_size, sampler=sampler, collate_fn=_collate,
                                    num_workers=cfg.num_workers, drop_last=False)
            else:
                g = torch.Generator().manual_seed(cfg.seed * 7919 + epoch)
                loader = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, generator=g,
                                    collate_fn=_collate, num_workers=cfg.num_workers, drop_last=False)
            n_batches = len(loader) if cfg.max_batches_per_epoch <= 0 else min(len(loader), cfg.max_batches_per_epoch)
            net.train()
            t0 = time.time()
            total, seen = 0.0, 0
            bar = None
            if self.progress and self._is_main():
                from tqdm import tqdm

                bar = tqdm(total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch", leave=False)
            for i, batch in enumerate(loader):
                if i >= n_batches:
                    break
                x = batch["inputs"].to(self.device, non_blocking=True)
                y = batch["targets"].to(self.device, non_blocking=True)
                m = batch.get("mask")
                m = m.to(self.device) if m is not None else None
                opt.zero_grad(set_to_none=True)
                with torch.autocast(self.device.type, dtype=amp_dtype, enabled=use_amp):
                    logits = net(x)
                loss = loss_fn(logits.float(), y, m)
                scaler.scale(loss).backward()
                if cfg.grad_clip > 0:
                    scaler.unscale_(opt)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                scaler.step(opt)
                scaler.update()
                total += float(loss.detach()) * x.shape[0]
                seen += x.shape[0]
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{total / max(seen, 1):.4f}")
            if bar is not None:
                bar.close()
            lr_now = opt.param_groups[0]["lr"]
            if sched is not None:
                sched.step()
            epochs_run += 1
            row = {"epoch": epoch, "train_loss": round(total / max(seen, 1), 6), "lr": lr_now,
                   "seconds": round(time.time() - t0, 2), "world_size": self.world}
            metrics = {}
            over_budget = cfg.max_minutes > 0 and (time.time() - t_start) / 60 > cfg.max_minutes
            is_last = epoch == cfg.epochs - 1 or over_budget
            if self._is_main():
                if val_loader is not None and ((epoch + 1) % cfg.val_every == 0 or is_last):
                    metrics = evaluate_volumes(model, val_loader, task, self.adapter.target_names, self.device,
                                               loss_fn=loss_fn, amp_dtype=amp_dtype)
                    row.update({f"val_{k}" if k in ("mean_jaccard", "mean_dice", "rmse") else k: v
                                for k, v in metrics.items()})
                    score = metrics.get(metric_name, metrics.get("val_loss"))
                    better = best_score is None or (score > best_score if higher else score < best_score)
                    if better:
                        best_score, best_epoch, best_metrics = score, epoch, metrics
                        save_checkpoint({"model": model.state_dict(), "meta": self._meta(metrics, epoch)}, best_path)
                self._log(row)
                meta = self._meta(metrics, epoch)
                meta["best_metrics"] = best_metrics
                save_checkpoint({
                    "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict() if sched is not None else {},
                    "scaler": scaler.state_dict() if scaler.is_enabled() else {},
                    "epoch": epoch, "best_score": best_score, "best_epoch": best_epoch, "meta": meta,
                }, last_path)
                if self.progress:
                    shown = {k: v for k, v in row.items() if not isinstance(v, (dict, list))}
                    print(json.dumps(shown), flush=True)
            if self.world > 1:
                torch.distributed.barrier()
            if self.on_epoch_end is not None:
                self.on_epoch_end(epoch, row)
            if is_last:
                break
        if self._is_main() and val_loader is None and last_path.exists():
            # without validation data the last epoch is the model
            ck = load_checkpoint(last_path)
            save_checkpoint({"model": ck["model"], "meta": ck["meta"]}, best_path)
        result = {"best": best_metrics, "best_epoch": best_epoch, "epochs_run": epochs_run,
                  "out_dir": str(self.out), "world_size": self.world}
        if self.world > 1:
            torch.distributed.barrier()
            torch.distributed.destroy_process_group()
        return result


def train(config: TrainConfig, adapter=None, progress: bool = True, on_epoch_end=None) -> dict:
    """Convenience wrapper: ``Trainer(config, adapter).fit()``."""
    return Trainer(config, adapter=adapter, progress=progress, on_epoch_end=on_epoch_end).fit()
