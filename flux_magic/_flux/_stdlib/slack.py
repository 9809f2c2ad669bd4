"""Flux's ``slack`` package: ``endpoint``, ``message``, ``validateColorString``, ``defaultURL``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import slack

PATH = "slack"
_DEFAULTS: dict[str, str] = {"defaultURL": "url"}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "defaultURL": slack.defaultURL,
        "endpoint": endpoint_builtin(
            "slack.endpoint",
            "url=?, token=?",
            slack.endpoint,
            package="slack",
            option_defaults=_DEFAULTS,
            example='slack.endpoint(token: "...")(mapFn: (r) => ({channel: "#c", text: "t", '
            'color: "good"}))()',
        ),
        "message": function_builtin(
            "slack.message",
            "url=?, token=?, channel, text, color",
            slack.message,
            sends=True,
            package="slack",
            option_defaults=_DEFAULTS,
        ),
        "validateColorString": function_builtin(
            "slack.validateColorString", "color", slack.validateColorString, strings=("color",)
        ),
    }
