"""The medical and climate notebooks are stored without outputs and run end to end on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
CASES = {"medical.ipynb": ("medical", "U-Net"), "climate.ipynb": ("climate", "max |tiled - untiled|")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_stored_without_outputs(name):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NB_DIR / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_executes(name, volumes_dir, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    domain, marker = CASES[name]
    pytest.importorskip({"medical": "nibabel", "climate": "xarray"}[domain])
    if domain == "climate":
        pytest.importorskip("cfgrib")  # the notebook reads the 2018 field from GRIB2
    # the kernel inherits the environment: point it at the shared data the fixture found
    monkeypatch.setenv("POCKETVOX_SHARED", str(volumes_dir.parents[1]))
    nb = nbformat.read(NB_DIR / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NB_DIR)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors[0].get("evalue") if errors else ""
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert marker in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the slices / maps were drawn
