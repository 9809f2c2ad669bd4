"""Flux's ``contrib/sranka/teams`` package (Microsoft Teams): ``endpoint`` and ``message``.

The body is a MessageCard written as text, one field a line (not json.encode: ``@type``)::

    {
    "@type": "MessageCard",
    "@context": "http://schema.org/extensions",
    "title": <json>,
    "text": <json>,
    "summary": <json>
    }

The summary defaults to the text; longer than ``summaryCutoff`` (70) code points it is cut to
70 and "..." is appended. ``Content-Type: application/json; charset=utf-8``; any 2xx is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flux_magic._endpoint import Hooks
from flux_magic._secrets import secret_values
from flux_magic.endpoints._common import (
    ServiceEndpoint,
    ServiceError,
    cut,
    encode,
    field,
    options_2xx,
    post_once,
)

__all__ = ["endpoint", "message", "summaryCutoff"]

PATH = "contrib/sranka/teams"
FIELDS = ("title", "text")
OPTIONAL = ("summary",)
summaryCutoff = 70


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ServiceError(f"teams: {name} must be a string, not {type(value).__name__}")
    return value


def card(title: str, text: str, summary: str = "", *, cutoff: int = summaryCutoff) -> bytes:
    """The MessageCard body Flux's ``teams.message`` posts."""
    summary = summary or text
    if len(summary) > cutoff:
        summary = cut(summary, cutoff) + "..."
    return (
        "{\n"
        '"@type": "MessageCard",\n'
        '"@context": "http://schema.org/extensions",\n'
        f'"title": {encode(title).decode()},\n'
        f'"text": {encode(text).decode()},\n'
        f'"summary": {encode(summary).decode()}\n'
        "}"
    ).encode()


HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def endpoint(*, url: str, summaryCutoff: int = summaryCutoff, **options: Any) -> ServiceEndpoint:
    """Flux's ``teams.endpoint(url:)``: one MessageCard per row to an incoming webhook.

    The mapping function returns ``{"title": ..., "text": ..., "summary": ...}`` (summary
    optional). ``summaryCutoff`` is Flux's package option (default 70).

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import teams
    >>> send = teams.endpoint(url="http://127.0.0.1:9/")(
    ...     lambda r: {"title": "Disk", "text": "x" * 80})
    >>> send.preview(pd.DataFrame({"a": [1]}))["body"][0].splitlines()[-2]
    '"summary": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."'
    """
    cutoff = summaryCutoff

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        title = _text(field(record, "title", "teams.endpoint", FIELDS), "title")
        text = _text(field(record, "text", "teams.endpoint", FIELDS), "text")
        summary = _text(field(record, "summary", "teams.endpoint", FIELDS, ""), "summary")
        return dict(HEADERS), card(title, text, summary, cutoff=cutoff)

    hooks = Hooks(secrets=tuple(secret_values(url)))
    return ServiceEndpoint("teams", url, build, options_2xx(options), hooks=hooks)


def message(*, url: str, title: str, text: str, summary: str = "", **options: Any) -> int:
    """Flux's ``teams.message``: post one card now; returns the HTTP status code."""
    record = {"title": title, "text": text, "summary": summary}
    return post_once(endpoint(url=url, **options), record)


CONFIG_DOCS = {
    "url": "Incoming-webhook URL of the Teams channel (its path is a credential).",
    "summaryCutoff": "Summaries longer than this many characters are cut and get '...'.",
}
SECRETS = frozenset({"url"})
TEMPLATE = """lambda r: {
    "title": f"{r._check_name} is {r._level}",
    "text": r._message,
    "summary": f"{r._check_name}: {r._level}",
}"""
FLUX_TEMPLATE = """(r) => ({
    title: "${r._check_name} is ${r._level}",
    text: r._message,
    summary: "${r._check_name}: ${r._level}",
})"""
