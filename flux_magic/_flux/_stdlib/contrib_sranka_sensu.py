"""Flux's ``contrib/sranka/sensu`` package, delegating to
``flux_magic.endpoints.sensu``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import sensu

PATH = "contrib/sranka/sensu"
_DEFAULTS: dict[str, str] = {}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "event": function_builtin(
            "sensu.event",
            "url, apiKey, checkName, text, handlers=?, status=?, state=?, namespace=?, "
            "entityName=?",
            sensu.event,
            sends=True,
            package="sensu",
        ),
        "toSensuName": function_builtin(
            "sensu.toSensuName", "v", sensu.toSensuName, strings=("v",)
        ),
        "endpoint": endpoint_builtin(
            "sensu.endpoint",
            "url, apiKey, handlers=?, namespace=?, entityName=?",
            sensu.endpoint,
            package="sensu",
            option_defaults=_DEFAULTS,
        ),
    }
