"""Flux's ``contrib/bonitoo-io/victorops`` package, delegating to
``flux_magic.endpoints.victorops``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import victorops

PATH = "contrib/bonitoo-io/victorops"
_DEFAULTS: dict[str, str] = {}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "alert": function_builtin(
            "victorops.alert",
            "url, messageType, entityID=?, entityDisplayName=?, stateMessage=?, timestamp=?, "
            "monitoringTool=?",
            victorops.alert,
            sends=True,
            package="victorops",
        ),
        "endpoint": endpoint_builtin(
            "victorops.endpoint",
            "url, monitoringTool=?",
            victorops.endpoint,
            package="victorops",
            option_defaults=_DEFAULTS,
        ),
    }
