"""Flux's ``contrib/bonitoo-io/alerta`` package, delegating to
``flux_magic.endpoints.alerta``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import alerta

PATH = "contrib/bonitoo-io/alerta"
_DEFAULTS: dict[str, str] = {}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "alert": function_builtin(
            "alerta.alert",
            "url, apiKey, resource, event, environment=?, severity, service=?, group=?, "
            "value=?, text=?, tags=?, attributes, origin=?, type=?, timestamp=?",
            alerta.alert,
            sends=True,
            package="alerta",
        ),
        "endpoint": endpoint_builtin(
            "alerta.endpoint",
            "url, apiKey, environment=?, origin=?",
            alerta.endpoint,
            package="alerta",
            option_defaults=_DEFAULTS,
        ),
    }
