"""Flux's ``pushbullet`` package: ``endpoint``, ``pushNote`` and ``pushData``.

Each row is one note: ``{"body":<text>,"title":...,"type":"note"}`` (json.encode: keys
sorted) with ``Access-Token: <token>`` and ``Content-Type: application/json``. Any 2xx is sent.
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

__all__ = ["defaultURL", "endpoint", "pushData", "pushNote"]

PATH = "pushbullet"
defaultURL = "https://api.pushbullet.com/v2/pushes"
FIELDS = ("title", "text")


def _headers(token: str) -> dict[str, str]:
    return {"Access-Token": token, "Content-Type": "application/json"}


def endpoint(*, url: str = defaultURL, token: str = "", **options: Any) -> ServiceEndpoint:
    """Flux's ``pushbullet.endpoint(url:, token:)``: one note per row.

    The mapping function returns ``{"title": ..., "text": ...}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import pushbullet
    >>> send = pushbullet.endpoint(url="http://127.0.0.1:9/", token="o.s3cret")(
    ...     lambda r: {"title": "T", "text": "B"})
    >>> send.preview(pd.DataFrame({"a": [1]}))["body"][0]
    '{"body":"B","title":"T","type":"note"}'
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        title = field(record, "title", "pushbullet.endpoint", FIELDS)
        text = field(record, "text", "pushbullet.endpoint", FIELDS)
        return _headers(token), encode({"type": "note", "title": title, "body": text})

    hooks = Hooks(secrets=secrets_of(token))
    return ServiceEndpoint("pushbullet", url, build, options_2xx(options), hooks=hooks)


def pushNote(
    *, url: str = defaultURL, token: str = "", title: str, text: str, **options: Any
) -> int:
    """Flux's ``pushbullet.pushNote``: push one note now; returns the HTTP status code."""
    return post_once(endpoint(url=url, token=token, **options), {"title": title, "text": text})


def pushData(
    *, url: str = defaultURL, token: str = "", data: Mapping[str, Any], **options: Any
) -> int:
    """Flux's ``pushbullet.pushData``: push ``data`` (JSON-encoded) now; the status code."""
    service = endpoint(url=url, token=token, **options)
    service.build = lambda record, row: (_headers(token), encode(dict(data)))
    return post_once(service, {})


CONFIG_DOCS = {
    "url": "Pushbullet pushes API URL.",
    "token": "Pushbullet access token (sent as the Access-Token header).",
}
SECRETS = frozenset({"token"})
TEMPLATE = """lambda r: {"title": f"{r._check_name} is {r._level}", "text": r._message}"""
FLUX_TEMPLATE = """(r) => ({title: "${r._check_name} is ${r._level}", text: r._message})"""
