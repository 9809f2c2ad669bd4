"""Flux's ``contrib/chobbs/discord`` package, delegating to
``flux_magic.endpoints.discord``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib._notify import endpoint_builtin, function_builtin
from flux_magic.endpoints import discord

PATH = "contrib/chobbs/discord"
_DEFAULTS: dict[str, str] = {"discordURL": "discordURL"}


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "discordURL": discord.discordURL,
        "send": function_builtin(
            "discord.send",
            "webhookToken, webhookID, username, content, avatar_url=?",
            discord.send,
            sends=True,
            package="discord",
            option_defaults=_DEFAULTS,
        ),
        "endpoint": endpoint_builtin(
            "discord.endpoint",
            "webhookToken, webhookID, username, avatar_url=?",
            discord.endpoint,
            package="discord",
            option_defaults=_DEFAULTS,
        ),
    }
