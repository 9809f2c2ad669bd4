"""One loopback Receiver per module, cleared before each test; what arrived, decoded."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

import flux_magic
from flux_magic._receiver import Received

T0 = pd.Timestamp("2021-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def shared_rx() -> Iterator[flux_magic.Receiver]:
    with flux_magic.Receiver(status=202) as rx:
        yield rx


@pytest.fixture
def rx(shared_rx: flux_magic.Receiver) -> flux_magic.Receiver:
    shared_rx.clear()
    return shared_rx


def only(rx: flux_magic.Receiver) -> Received:
    """The single request that arrived."""
    got = rx.received()
    assert len(got) == 1, got
    return got[0]


def checks() -> pd.DataFrame:
    """Three check results, as a monitoring query would give them."""
    return pd.DataFrame(
        {
            "_time": [T0, T0 + pd.Timedelta(seconds=10), T0 + pd.Timedelta(seconds=20)],
            "host": ["web-1", "web-2", "db-1"],
            "_level": ["crit", "warn", "ok"],
            "_check_name": ["cpu", "cpu", "disk"],
            "_message": ["cpu is 97%", "cpu is 85%", 'disk is fine <ok> & "quiet"'],
            "_value": [97.0, 85.5, 12.0],
        }
    )
