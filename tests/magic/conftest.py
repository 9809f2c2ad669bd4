"""Fixtures of the magic tests: a real IPython shell with the extension loaded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture
def shell() -> Iterator[Any]:
    """The IPython shell with ``%load_ext flux_magic`` done, a ``df`` and nothing else new."""
    ip = InteractiveShell.instance(history_length=0, colors="NoColor")
    before = set(ip.user_ns)
    ip.run_line_magic("load_ext", "flux_magic")
    ip.user_ns["df"] = pd.DataFrame({"host": ["a", "b", "c"], "_value": [1, 2, 3]})
    yield ip
    if "flux_magic" in ip.extension_manager.loaded:
        ip.run_line_magic("unload_ext", "flux_magic")
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]
    # %config also lands in the shell's own config (as from ipython_config.py); forget it
    ip.config.pop("FluxEndpointMagic", None)
