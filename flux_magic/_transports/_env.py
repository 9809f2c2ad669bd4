"""What the environment can change about a send: a proxy or a netrc file."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

__all__ = ["env_can_matter"]


def env_can_matter() -> bool:
    """Whether the environment can change how a request goes: a proxy or a netrc file.

    With ``trust_env`` on, aiohttp looks both up in a worker thread for every request: two
    thread round trips per row. When neither exists those lookups always come back empty, so
    it stays off (and the lean backend may be used).
    """
    if any(k in ("http", "https", "ws", "wss") for k in urllib.request.getproxies()):
        return True
    if "NETRC" in os.environ:
        return True
    try:
        return (Path.home() / ".netrc").exists()
    except (RuntimeError, OSError):
        return False
