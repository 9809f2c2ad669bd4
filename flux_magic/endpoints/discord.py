"""Flux's ``contrib/chobbs/discord`` package: ``endpoint`` and ``send``.

Each row is one POST to ``discordURL + webhookID + "/" + webhookToken`` with
``{"avatar_url":...,"content":...,"username":...}`` (json.encode: keys sorted) and
``Content-Type: application/json``. The webhook token is in the URL path, so it is masked
wherever the URL is shown. Any 2xx is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flux_magic._endpoint import Hooks
from flux_magic.endpoints._common import (
    ServiceEndpoint,
    encode,
    field,
    options_2xx,
    post_once,
    secrets_of,
)

__all__ = ["discordURL", "endpoint", "send"]

PATH = "contrib/chobbs/discord"
discordURL = "https://discordapp.com/api/webhooks/"
FIELDS = ("content",)
HEADERS = {"Content-Type": "application/json"}


def endpoint(
    *,
    webhookToken: str,
    webhookID: str,
    username: str,
    avatar_url: str = "",
    discordURL: str = discordURL,
    **options: Any,
) -> ServiceEndpoint:
    """Flux's ``discord.endpoint(webhookToken:, webhookID:, username:, avatar_url:)``.

    The mapping function returns ``{"content": ...}``. ``discordURL`` is Flux's package
    option (``option discord.discordURL = ...``), the webhook URL up to the ID.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import discord
    >>> send = discord.endpoint(webhookToken="T0KEN", webhookID="123", username="bot",
    ...     discordURL="http://127.0.0.1:9/api/webhooks/")(lambda r: {"content": "hi"})
    >>> p = send.preview(pd.DataFrame({"a": [1]}))
    >>> p["url"][0], p["body"][0]
    ('http://127.0.0.1:9/api/webhooks/123/***', '{"avatar_url":"","content":"hi","username":"bot"}')
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        content = field(record, "content", "discord.endpoint", FIELDS)
        body = encode({"username": username, "content": content, "avatar_url": avatar_url})
        return dict(HEADERS), body

    hooks = Hooks(secrets=secrets_of(webhookToken))
    target = f"{discordURL}{webhookID}/{webhookToken}"
    return ServiceEndpoint("discord", target, build, options_2xx(options), hooks=hooks)


def send(
    *,
    webhookToken: str,
    webhookID: str,
    username: str,
    content: str,
    avatar_url: str = "",
    discordURL: str = discordURL,
    **options: Any,
) -> int:
    """Flux's ``discord.send``: send one message now; returns the HTTP status code."""
    service = endpoint(
        webhookToken=webhookToken,
        webhookID=webhookID,
        username=username,
        avatar_url=avatar_url,
        discordURL=discordURL,
        **options,
    )
    return post_once(service, {"content": content})


CONFIG_DOCS = {
    "webhookToken": "Discord webhook token (it goes in the URL path).",
    "webhookID": "Discord webhook ID.",
    "username": "Name shown as the sender (overrides the webhook's).",
    "avatar_url": "Avatar image URL (overrides the webhook's).",
    "discordURL": "Webhook URL up to the ID (Flux's option discord.discordURL).",
}
SECRETS = frozenset({"webhookToken"})
TEMPLATE = """lambda r: {"content": f"{r._check_name} is {r._level}: {r._message}"}"""
FLUX_TEMPLATE = """(r) => ({content: "${r._check_name} is ${r._level}: ${r._message}"})"""
