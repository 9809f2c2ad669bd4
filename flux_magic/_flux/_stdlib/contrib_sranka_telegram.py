"""Flux's ``contrib/sranka/telegram`` package, delegating to
``flux_magic.endpoints.telegram``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import telegram

PATH = "contrib/sranka/telegram"
_DEFAULTS: dict[str, str] = {
    "defaultURL": "url",
    "defaultParseMode": "parseMode",
    "defaultDisableWebPagePreview": "disableWebPagePreview",
}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "defaultURL": telegram.defaultURL,
        "defaultParseMode": telegram.defaultParseMode,
        "defaultDisableWebPagePreview": telegram.defaultDisableWebPagePreview,
        "defaultSilent": telegram.defaultSilent,
        "message": function_builtin(
            "telegram.message",
            "url=?, token, channel, text, parseMode=?, disableWebPagePreview=?, silent=?",
            telegram.message,
            sends=True,
            package="telegram",
            option_defaults=_DEFAULTS,
        ),
        "endpoint": endpoint_builtin(
            "telegram.endpoint",
            "url=?, token, parseMode=?, disableWebPagePreview=?",
            telegram.endpoint,
            package="telegram",
            option_defaults=_DEFAULTS,
        ),
    }
