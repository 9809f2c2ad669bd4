"""Fixtures of the widget tests: a user namespace (the Receiver comes from tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest


@pytest.fixture
def namespace() -> dict[str, Any]:
    return {
        "alerts": pd.DataFrame(
            {"host": ["a", "b", "c"], "_value": [81.5, 92.0, 99.9]},
        ),
        "not_a_frame": [1, 2, 3],
    }


@pytest.fixture
def dead_url(closed_port_url: str) -> str:
    """A loopback URL where nothing listens (the root conftest's ``closed_port_url``)."""
    return closed_port_url
