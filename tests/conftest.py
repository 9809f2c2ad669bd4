"""Shared fixtures: real loopback servers, never a mocked transport."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

import flux_magic


@pytest.fixture
def receiver() -> Iterator[flux_magic.Receiver]:
    """An embedded Receiver answering 200, stopped after the test."""
    with flux_magic.Receiver() as rx:
        yield rx


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(params=["lean", "aiohttp"])
def concurrent_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the concurrent mode on the lean HTTP/1.1 path, then on aiohttp."""
    from flux_magic import _transports

    monkeypatch.setattr(_transports, "BACKEND", None if request.param == "lean" else "aiohttp")
    return str(request.param)


NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class NotebookRunner:
    """Runs ``notebooks/<name>`` top to bottom in a fresh python3 kernel (fixture ``notebooks``).

    The kernel imports this checkout (PYTHONPATH), whatever is installed; a cell that raises
    fails the run (nbclient's CellExecutionError).
    """

    def __call__(self, name: str, workdir: Path, timeout: int = 120) -> nbformat.NotebookNode:
        shutil.copy(NOTEBOOKS / name, workdir / name)
        nb = nbformat.read(workdir / name, as_version=4)
        path = os.pathsep.join(filter(None, [str(NOTEBOOKS.parent), os.environ.get("PYTHONPATH")]))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PYTHONPATH", path)
            nbclient.NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(workdir)}},
            ).execute()
        return nb

    @staticmethod
    def text(output: Any) -> str:
        """The text of one cell output (stream text or text/plain)."""
        data = output.get("data") or {}
        return str(output.get("text") or data.get("text/plain", ""))


@pytest.fixture(scope="session")
def notebooks() -> NotebookRunner:
    return NotebookRunner()
