"""Helpers shared by CLI commands: debug flag lookup, atomic writes, batch error reporting."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click


def is_debug() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.obj and ctx.obj.get("debug"):
            return True
        ctx = ctx.parent
    return False


def report_item_error(path, err: Exception) -> None:
    """One line for a bad item in batch work; the batch goes on."""
    click.echo(f"pocketvox: error: {path}: {err}" if str(path) not in str(err) else f"pocketvox: error: {err}",
               err=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode())
