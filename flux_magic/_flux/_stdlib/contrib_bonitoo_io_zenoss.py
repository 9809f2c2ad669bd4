"""Flux's ``contrib/bonitoo-io/zenoss`` package, delegating to
``flux_magic.endpoints.zenoss``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import zenoss

PATH = "contrib/bonitoo-io/zenoss"
_DEFAULTS: dict[str, str] = {}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "event": function_builtin(
            "zenoss.event",
            "url, username=?, password=?, apiKey=?, action=?, method=?, type=?, tid=?, "
            "summary=?, device=?, component=?, severity, eventClass=?, eventClassKey=?, "
            "collector=?, message=?",
            zenoss.event,
            sends=True,
            package="zenoss",
        ),
        "endpoint": endpoint_builtin(
            "zenoss.endpoint",
            "url, username=?, password=?, apiKey=?, action=?, method=?, type=?, tid=?",
            zenoss.endpoint,
            package="zenoss",
            option_defaults=_DEFAULTS,
        ),
    }
