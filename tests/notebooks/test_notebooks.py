"""The notebooks in ``notebooks/`` run top to bottom without an error and are committed with outputs stripped.

Each notebook is executed as committed (its size setting, ``N_PATHS`` / ``PER_WINDOW``, is small: each runs in
well under a minute on 2 CPU cores) in a kernel of the interpreter running the tests: the kernel spec is
ipykernel's native ``python3`` spec, whose command is ``sys.executable``, so neither a user-level ``python3``
kernel spec nor a spec installed into the venv can point the test at another Python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600  # generous: a cell that hangs fails the test instead of the whole run


def _ids(path: Path) -> str:
    return path.name


def test_notebooks_present():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_quickstart.ipynb", "02_gan_vs_garch.ipynb", "03_margin_committee.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_stripped(path: Path):
    """Committed without outputs, execution counts or execution timing metadata."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs"
        assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
        assert "execution" not in cell.get("metadata", {}), f"{path.name} cell {i} has execution metadata"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def _kernel_manager() -> KernelManager:
    """A manager for the native ``python3`` kernel of this interpreter (no kernel spec directory searched)."""
    km = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    assert Path(km.kernel_spec.argv[0]).resolve() == Path(sys.executable).resolve(), km.kernel_spec.argv
    return km


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_executes(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # two workers on 2 cores: one intra-op thread per kernel, as in tests/gan/conftest.py
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' tempfile directories go to pytest's tmp_path
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, not a headless one from CI
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, km=_kernel_manager(), timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError (with the traceback) on the first failing cell
    errors = [(i, out.get("ename"), out.get("evalue")) for i, cell in enumerate(nb.cells)
              if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"]
    assert not errors, errors
    not_run = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not c.execution_count]
    assert not not_run, f"cells not executed: {not_run}"
