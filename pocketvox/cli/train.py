"""``pocketvox train --config FILE [--flag value ...]``: train a volume model through an adapter.

Every :class:`pocketvox.volume.trainer.TrainConfig` field is a flag (``--batch-size 8``); flags
override the config file. Adapter options: ``-O key=value`` (repeatable; values parsed as TOML
scalars). Multi-GPU / multi-node: launch the same command with ``torchrun --nproc_per_node N -m
pocketvox.cli.main train ...``.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields

import click


def _parse_scalar(text: str):
    try:
        import tomllib
    except ImportError:
        import tomli as tomllib
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except Exception:  # noqa: BLE001 - bare words are strings
        return text


def _config_options(func):
    from pocketvox.volume.trainer import TrainConfig

    for f in reversed(fields(TrainConfig)):
        if f.name == "adapter_options":
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        if isinstance(default, bool):
            opt = click.option(f"{flag}/--no-{f.name.replace('_', '-')}", f.name, default=None,
                               help=f"(default {default})")
        else:
            typ = {int: int, float: float, str: str}.get(type(default), str)
            opt = click.option(flag, f.name, type=typ, default=None, help=f"(default {default})")
        func = opt(func)
    return func


@click.command("train")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML or YAML config file.")
@click.option("-O", "--adapter-option", "adapter_opts", multiple=True, metavar="KEY=VALUE",
              help="Adapter option (repeatable), e.g. -O cache=data/cache.h5")
@_config_options
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False),
              help="After training, also write a slim copy of the best model here (e.g. a .pt to ship).")
def train(config_path, adapter_opts, quiet, export_path, **overrides):
    """Train a 3D U-Net through an adapter (molecular, medical, climate, synthetic)."""
    from pocketvox.errors import PocketvoxError
    from pocketvox.volume.trainer import TrainConfig, load_config_file
    from pocketvox.volume.trainer import train as run_train

    d = load_config_file(config_path) if config_path else {}
    d.update({k: v for k, v in overrides.items() if v is not None})
    opts = dict(d.get("adapter_options", {}))
    for item in adapter_opts:
        if "=" not in item:
            raise PocketvoxError(f"adapter option {item!r} is not KEY=VALUE")
        k, v = item.split("=", 1)
        opts[k.strip()] = _parse_scalar(v.strip())
    d["adapter_options"] = opts
    cfg = TrainConfig.from_dict(d)
    result = run_train(cfg, progress=not quiet)
    if _rank() != 0:
        return
    if cfg.adapter == "molecular":
        # thresholds per mode on the validation split (complex and pocket differ in base rate)
        from pocketvox.apps.training import finalize

        result["thresholds_by_mode"] = finalize(cfg.out_dir)
    if export_path:
        from pathlib import Path

        from pocketvox.apps.training import export_model

        result["exported"] = str(export_model(Path(cfg.out_dir) / "best.pt", export_path))
    click.echo(json.dumps(result, default=str))


def _rank() -> int:
    import os

    return int(os.environ.get("RANK", "0"))
