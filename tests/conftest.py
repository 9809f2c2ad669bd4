"""Shared fixtures: real loopback servers, never a mocked transport."""

from __future__ import annotations

import socket
from collections.abc import Iterator

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
    from flux_magic import _transport_lean

    monkeypatch.setattr(_transport_lean, "ENABLED", request.param == "lean")
    return str(request.param)
