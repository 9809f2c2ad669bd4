"""Flux's ``slack`` package: ``endpoint``, ``message`` and ``validateColorString``.

The body is ``{"attachments":[{"color":...,"mrkdwn_in":["text"],"text":...}],"channel":...}``
(json.encode: keys sorted), with ``Authorization: Bearer <token>`` and
``Content-Type: application/json``. A color must be ``good``, ``warning``, ``danger`` or a
``#`` hex code up to ``#ffffff``. Any 2xx counts as sent; an answer ``{"ok": false, ...}``
(the Web API's refusal, still HTTP 200) keeps ``_sent`` as Flux has it and says so in
``_error``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flux_magic._endpoint import Hooks
from flux_magic.endpoints._common import (
    ANSWER_BYTES,
    ServiceEndpoint,
    ServiceError,
    encode,
    field,
    flux_string,
    options_2xx,
    post_once,
    secrets_of,
)

__all__ = ["defaultURL", "endpoint", "message", "validateColorString"]

PATH = "slack"
defaultURL = "https://slack.com/api/chat.postMessage"
FIELDS = ("channel", "text", "color")
_COLORS = frozenset({"good", "warning", "danger"})


def validateColorString(color: str) -> str:
    """``color`` if Slack accepts it (good, warning, danger or #rrggbb), else Flux's error.

    Examples
    --------
    >>> validateColorString("#fff")
    '#fff'
    """
    if not isinstance(color, str):
        raise ServiceError(f"slack: could not parse color string {color!r}")
    if color in _COLORS:
        return color
    if color.startswith("#"):
        digits = color[1:]
        body = digits[1:] if digits[:1] in ("+", "-") else digits
        if not body or any(c not in "0123456789abcdefABCDEF" for c in body):
            raise ServiceError(
                f'slack: strconv.ParseInt: parsing "{digits}": invalid syntax (color {color!r}: '
                "use good, warning, danger or a hex code such as #ff0000)"
            )
        value = int(digits, 16)
        if 0 <= value <= 0xFFFFFF:
            return color
    raise ServiceError(
        f"slack: could not parse color string {color!r}: use good, warning, danger or a hex "
        "code such as #ff0000"
    )


def _request(token: str, channel: Any, text: Any, color: Any) -> tuple[dict[str, str], bytes]:
    color = validateColorString(color)
    body = encode(
        {
            "channel": channel,
            "attachments": [{"color": color, "text": flux_string(text), "mrkdwn_in": ["text"]}],
        }
    )
    # Go drops the trailing space of "Bearer " when no token is configured
    headers = {"Authorization": f"Bearer {token}".strip(), "Content-Type": "application/json"}
    return headers, body


def check_answer(status: int, answer: bytes | None) -> str:
    """What Slack said went wrong in a 2xx answer (``"ok": false``), or ""."""
    if not answer or not 200 <= status < 300 or not answer.lstrip().startswith(b"{"):
        return ""
    try:
        said = json.loads(answer)
    except ValueError:
        return ""
    if isinstance(said, dict) and said.get("ok") is False:
        why = said.get("error", "no reason given")
        return f'Slack answered HTTP {status} with "ok": false ({why}): the message was not posted'
    return ""


def _hooks(token: str) -> Hooks:
    return Hooks(secrets=secrets_of(token), answer_check=check_answer, keep_answer=ANSWER_BYTES)


def endpoint(*, url: str = defaultURL, token: str = "", **options: Any) -> ServiceEndpoint:
    """Flux's ``slack.endpoint(url:, token:)``: one message per row.

    The mapping function returns ``{"channel": ..., "text": ..., "color": ...}``.

    Parameters
    ----------
    url : str
        Slack's ``chat.postMessage`` (default) or an incoming-webhook URL.
    token : str
        Slack API token (default "": none, for webhooks). Masked everywhere it is shown.
    **options
        Sending options (``rate``, ``retries``, ``concurrency``, ...); ``sent_when`` is
        "2xx" as in Flux.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import slack
    >>> send = slack.endpoint(url="http://127.0.0.1:9/", token="xoxb-1")(
    ...     lambda r: {"channel": "#alerts", "text": f"v={r._value}", "color": "danger"})
    >>> send.preview(pd.DataFrame({"_value": [1]}))["body"][0]
    '{"attachments":[{"color":"danger","mrkdwn_in":["text"],"text":"v=1"}],"channel":"#alerts"}'
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        return _request(
            token,
            field(record, "channel", "slack.endpoint", FIELDS),
            field(record, "text", "slack.endpoint", FIELDS, nullable=True),
            field(record, "color", "slack.endpoint", FIELDS),
        )

    return ServiceEndpoint("slack", url, build, options_2xx(options), hooks=_hooks(token))


def message(
    *,
    url: str = defaultURL,
    token: str = "",
    channel: str,
    text: Any,
    color: str,
    **options: Any,
) -> int:
    """Flux's ``slack.message``: send one message now; returns the HTTP status code.

    Examples
    --------
    >>> from flux_magic import Receiver
    >>> with Receiver() as rx:
    ...     message(url=rx.url, channel="#c", text="hi", color="good")
    200
    """
    record = {"channel": channel, "text": text, "color": color}
    return post_once(endpoint(url=url, token=token, **options), record)


CONFIG_DOCS = {
    "url": "Slack chat.postMessage API URL (default) or an incoming-webhook URL.",
    "token": "Slack API token; empty for incoming webhooks.",
}
SECRETS = frozenset({"token"})
TEMPLATE = """lambda r: {
    "channel": "#alerts",
    "text": f"{r._check_name} is {r._level}: {r._message}",
    "color": "danger",
}"""
FLUX_TEMPLATE = """(r) => ({
    channel: "#alerts",
    text: "${r._check_name} is ${r._level}: ${r._message}",
    color: "danger",
})"""
