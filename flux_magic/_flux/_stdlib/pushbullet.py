"""Flux's ``pushbullet`` package, delegating to
``flux_magic.endpoints.pushbullet``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import pushbullet

PATH = "pushbullet"
_DEFAULTS: dict[str, str] = {"defaultURL": "url"}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "defaultURL": pushbullet.defaultURL,
        "pushNote": function_builtin(
            "pushbullet.pushNote",
            "url=?, token=?, title, text",
            pushbullet.pushNote,
            sends=True,
            package="pushbullet",
            option_defaults={"defaultURL": "url"},
        ),
        "pushData": function_builtin(
            "pushbullet.pushData",
            "url=?, token=?, data",
            pushbullet.pushData,
            sends=True,
            package="pushbullet",
            option_defaults={"defaultURL": "url"},
        ),
        "endpoint": endpoint_builtin(
            "pushbullet.endpoint",
            "url=?, token=?",
            pushbullet.endpoint,
            package="pushbullet",
            option_defaults=_DEFAULTS,
        ),
    }
