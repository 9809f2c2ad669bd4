"""Fixtures of the widget tests: a real loopback Receiver and a user namespace."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import flux_magic


@pytest.fixture
def receiver() -> Iterator[flux_magic.Receiver]:
    with flux_magic.Receiver() as rx:
        yield rx


@pytest.fixture
def namespace() -> dict[str, Any]:
    return {
        "alerts": pd.DataFrame(
            {"host": ["a", "b", "c"], "_value": [81.5, 92.0, 99.9]},
        ),
        "not_a_frame": [1, 2, 3],
    }


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (the port was just free)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
