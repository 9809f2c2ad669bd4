"""Flux's ``contrib/sranka/webexteams`` package, delegating to
``flux_magic.endpoints.webexteams``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import webexteams

PATH = "contrib/sranka/webexteams"
_DEFAULTS: dict[str, str] = {}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "message": function_builtin(
            "webexteams.message",
            "url=?, token, roomId, text, markdown",
            webexteams.message,
            sends=True,
            package="webexteams",
        ),
        "endpoint": endpoint_builtin(
            "webexteams.endpoint",
            "url=?, token",
            webexteams.endpoint,
            package="webexteams",
            option_defaults=_DEFAULTS,
        ),
    }
