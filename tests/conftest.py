"""Shared fixtures. Tests that need ../shared skip with a clear reason where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POCKETVOX_SHARED", ROOT.parent / "shared"))
DATA = ROOT / "data"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"needs shared data at {path} (absent on this machine)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _need(SHARED)


@pytest.fixture(scope="session")
def plip_dir() -> Path:
    return _need(SHARED / "data" / "plip")


@pytest.fixture(scope="session")
def posebusters_dir() -> Path:
    return _need(SHARED / "data" / "posebusters")


@pytest.fixture(scope="session")
def volumes_dir() -> Path:
    return _need(SHARED / "data" / "volumes")


@pytest.fixture(scope="session")
def bundled_dir() -> Path:
    return DATA
