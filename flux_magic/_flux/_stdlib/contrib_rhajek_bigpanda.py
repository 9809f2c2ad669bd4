"""Flux's ``contrib/rhajek/bigpanda`` package, delegating to
``flux_magic.endpoints.bigpanda``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import bigpanda

PATH = "contrib/rhajek/bigpanda"
_DEFAULTS: dict[str, str] = {"defaultUrl": "url"}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "defaultUrl": bigpanda.defaultUrl,
        "defaultTokenPrefix": bigpanda.defaultTokenPrefix,
        "sendAlert": function_builtin(
            "bigpanda.sendAlert",
            "url, token, appKey, status, rec",
            bigpanda.sendAlert,
            sends=True,
            package="bigpanda",
            option_defaults=_DEFAULTS,
        ),
        "statusFromLevel": function_builtin(
            "bigpanda.statusFromLevel", "level", bigpanda.statusFromLevel, strings=("level",)
        ),
        "endpoint": endpoint_builtin(
            "bigpanda.endpoint",
            "url=?, token, appKey",
            bigpanda.endpoint,
            package="bigpanda",
            option_defaults=_DEFAULTS,
        ),
    }
