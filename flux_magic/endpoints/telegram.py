"""Flux's ``contrib/sranka/telegram`` package: ``endpoint`` and ``message``.

Each row is one ``sendMessage`` call to ``url + token + "/sendMessage"`` with
``{"chat_id":...,"disable_notification":<silent>,"disable_web_page_preview":...,
"parse_mode":...,"text":...}`` (json.encode: keys sorted) and
``Content-Type: application/json; charset=utf-8``. The bot token is in the URL path, so it
is masked wherever the URL is shown. Any 2xx is sent.
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

__all__ = ["defaultDisableWebPagePreview", "defaultParseMode", "defaultSilent", "defaultURL"]
__all__ += ["endpoint", "message"]

PATH = "contrib/sranka/telegram"
defaultURL = "https://api.telegram.org/bot"
defaultParseMode = "MarkdownV2"
defaultDisableWebPagePreview = False
defaultSilent = True
FIELDS = ("channel", "text", "silent")
HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def endpoint(
    *,
    url: str = defaultURL,
    token: str,
    parseMode: str = defaultParseMode,
    disableWebPagePreview: bool = defaultDisableWebPagePreview,
    **options: Any,
) -> ServiceEndpoint:
    """Flux's ``telegram.endpoint(url:, token:, parseMode:, disableWebPagePreview:)``.

    The mapping function returns ``{"channel": ..., "text": ..., "silent": ...}``.

    Examples
    --------
    >>> import pandas as pd
    >>> from flux_magic.endpoints import telegram
    >>> send = telegram.endpoint(url="http://127.0.0.1:9/bot", token="123:SECRET")(
    ...     lambda r: {"channel": "-12345", "text": "hi", "silent": True})
    >>> send.preview(pd.DataFrame({"a": [1]}))["url"][0]
    'http://127.0.0.1:9/bot***/sendMessage'
    """

    def build(record: Mapping[str, Any], row: Mapping[Any, Any]) -> tuple[dict[str, str], bytes]:
        body = encode(
            {
                "chat_id": field(record, "channel", "telegram.endpoint", FIELDS),
                "text": field(record, "text", "telegram.endpoint", FIELDS),
                "parse_mode": parseMode,
                "disable_web_page_preview": disableWebPagePreview,
                "disable_notification": field(record, "silent", "telegram.endpoint", FIELDS),
            }
        )
        return dict(HEADERS), body

    hooks = Hooks(secrets=secrets_of(token))
    target = f"{url}{token}/sendMessage"
    return ServiceEndpoint("telegram", target, build, options_2xx(options), hooks=hooks)


def message(
    *,
    url: str = defaultURL,
    token: str,
    channel: str,
    text: str,
    parseMode: str = defaultParseMode,
    disableWebPagePreview: bool = defaultDisableWebPagePreview,
    silent: bool = defaultSilent,
    **options: Any,
) -> int:
    """Flux's ``telegram.message``: send one message now; returns the HTTP status code."""
    service = endpoint(
        url=url,
        token=token,
        parseMode=parseMode,
        disableWebPagePreview=disableWebPagePreview,
        **options,
    )
    return post_once(service, {"channel": channel, "text": text, "silent": silent})


CONFIG_DOCS = {
    "url": "Telegram Bot API URL up to the token (the token and /sendMessage are appended).",
    "token": "Telegram bot token (it goes in the URL path).",
    "parseMode": "Parse mode of the text: MarkdownV2 (default), HTML or Markdown.",
    "disableWebPagePreview": "Do not show previews of links in the message.",
}
SECRETS = frozenset({"token"})
TEMPLATE = """lambda r: {
    "channel": "-12345",
    "text": f"{r._check_name} is {r._level}",
    "silent": True,
}"""
FLUX_TEMPLATE = """(r) => ({
    channel: "-12345",
    text: "${r._check_name} is ${r._level}",
    silent: true,
})"""
