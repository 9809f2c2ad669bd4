"""Flux's ``contrib/bonitoo-io/servicenow`` package, delegating to
``flux_magic.endpoints.servicenow``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import servicenow

PATH = "contrib/bonitoo-io/servicenow"
_DEFAULTS: dict[str, str] = {}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "event": function_builtin(
            "servicenow.event",
            "url, username, password, source=?, node=?, metricType=?, resource=?, "
            "metricName=?, messageKey=?, description, severity, additionalInfo=?",
            servicenow.event,
            sends=True,
            package="servicenow",
        ),
        "endpoint": endpoint_builtin(
            "servicenow.endpoint",
            "url, username, password, source=?",
            servicenow.endpoint,
            package="servicenow",
            option_defaults=_DEFAULTS,
        ),
    }
