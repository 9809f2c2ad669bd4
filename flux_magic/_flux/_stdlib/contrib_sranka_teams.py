"""Flux's ``contrib/sranka/teams`` package, delegating to
``flux_magic.endpoints.teams``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import teams

PATH = "contrib/sranka/teams"
_DEFAULTS: dict[str, str] = {"summaryCutoff": "summaryCutoff"}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "summaryCutoff": teams.summaryCutoff,
        "message": function_builtin(
            "teams.message",
            "url, title, text, summary=?",
            teams.message,
            sends=True,
            package="teams",
        ),
        "endpoint": endpoint_builtin(
            "teams.endpoint",
            "url",
            teams.endpoint,
            package="teams",
            option_defaults=_DEFAULTS,
        ),
    }
