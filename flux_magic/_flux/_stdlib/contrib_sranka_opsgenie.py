"""Flux's ``contrib/sranka/opsgenie`` package, delegating to
``flux_magic.endpoints.opsgenie``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import opsgenie

PATH = "contrib/sranka/opsgenie"
_DEFAULTS: dict[str, str] = {}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "sendAlert": function_builtin(
            "opsgenie.sendAlert",
            "url=?, apiKey, message, alias=?, description=?, priority=?, responders=?, tags=?, "
            "entity=?, actions=?, visibleTo=?, details=?",
            opsgenie.sendAlert,
            sends=True,
            package="opsgenie",
        ),
        "respondersToJSON": function_builtin(
            "opsgenie.respondersToJSON", "v", opsgenie.respondersToJSON
        ),
        "endpoint": endpoint_builtin(
            "opsgenie.endpoint",
            "url=?, apiKey, entity=?",
            opsgenie.endpoint,
            package="opsgenie",
            option_defaults=_DEFAULTS,
        ),
    }
