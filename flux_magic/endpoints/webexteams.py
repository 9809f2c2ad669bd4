"""Flux's ``contrib/sranka/webexteams`` package: ``endpoint`` and ``message``.

Each row is one POST to ``url + "/v1/messages"`` with ``{"markdown":...,"roomId":...,
"text":...}`` (json.encode: keys sorted), ``Content-Type: application/json; charset=utf-8``
and ``Authorization: Bearer <token>``. Any 2xx is sent.
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

__all__ = ["endpoint", "message"]

PATH = "contrib/sranka/webexteams"
defaultURL = "https://webexapis.com"
FIELDS = ("roomId", "text", "markdown")


def endpoint(*, url: str = defaultURL, token: str, **options: Any) -> ServiceEndpoint:
    """Flux's ``webexteams.endpoint(url:, token:)``: one message per row.

    The mapping function returns ``{"roomId": ..., "text": ..., "markdown": ...}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import webexteams
    >>> send = webexteams.endpoint(url="http://127.0.0.1:9", token="t0k3n")(
    ...     lambda r: {"roomId": "R", "text": "t", "markdown": "**m**"})
    >>> send.preview(pd.DataFrame({"a": [1]}))["body"][0]
    '{"markdown":"**m**","roomId":"R","text":"t"}'
    """
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Authorization": f"Bearer {token}".strip(),
    }

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        body = encode(
            {
                "text": field(record, "text", "webexteams.endpoint", FIELDS),
                "markdown": field(record, "markdown", "webexteams.endpoint", FIELDS),
                "roomId": field(record, "roomId", "webexteams.endpoint", FIELDS),
            }
        )
        return dict(headers), body

    hooks = Hooks(secrets=secrets_of(token))
    return ServiceEndpoint(
        "webexteams", url + "/v1/messages", build, options_2xx(options), hooks=hooks
    )


def message(
    *, url: str = defaultURL, token: str, roomId: str, text: str, markdown: str, **options: Any
) -> int:
    """Flux's ``webexteams.message``: send one message now; returns the HTTP status code."""
    record = {"roomId": roomId, "text": text, "markdown": markdown}
    return post_once(endpoint(url=url, token=token, **options), record)


CONFIG_DOCS = {
    "url": "Webex API base URL, without a trailing slash (/v1/messages is appended).",
    "token": "Webex API access token (sent as 'Authorization: Bearer ...').",
}
SECRETS = frozenset({"token"})
TEMPLATE = """lambda r: {
    "roomId": "YOUR-ROOM-ID",
    "text": f"{r._check_name} is {r._level}",
    "markdown": f"**{r._check_name}** is {r._level}",
}"""
FLUX_TEMPLATE = """(r) => ({
    roomId: "YOUR-ROOM-ID",
    text: "${r._check_name} is ${r._level}",
    markdown: "**${r._check_name}** is ${r._level}",
})"""
