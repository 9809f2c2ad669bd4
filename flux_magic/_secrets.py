"""Masking of secrets: header values, URL passwords and token-like query parameters.

Everything a user sees — previews, curl commands, summaries, errors, logs, reprs — goes
through these functions. Only the bytes actually sent carry the real values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "is_secret_name",
    "mask_headers",
    "mask_json_fields",
    "mask_text",
    "mask_url",
    "mask_urls",
    "secret_values",
]

MASK = "***"

_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth", "dd-api-key"}
)
_SECRET_WORDS = re.compile(r"token|key|secret|passw|pwd|auth|session|signature|credential", re.I)
# An Authorization-style value keeps its scheme ("Bearer ***") so the user can still tell
# which kind of credential is configured.
_SCHEME = re.compile(r"^(Basic|Bearer|Token|Digest|Negotiate|Splunk|GenieKey|Bot|ApiKey)\s+", re.I)


def is_secret_name(name: str) -> bool:
    """Whether a header or query-parameter name carries a credential."""
    lowered = name.lower()
    return lowered in _SECRET_HEADERS or _SECRET_WORDS.search(lowered) is not None


def _mask_value(value: str) -> str:
    m = _SCHEME.match(value)
    return f"{m.group(1)} {MASK}" if m else MASK


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with the values of secret-looking headers replaced by ``***``."""
    return {k: (_mask_value(v) if is_secret_name(k) else v) for k, v in headers.items()}


# Webhook URLs that carry their credential in the path: (host pattern, path pattern); the
# groups of the path pattern are the secret parts.
_PATH_SECRETS = (
    (re.compile(r"(^|\.)slack\.com$", re.I), re.compile(r"^/services/[^/]+/[^/]+/([^/]+)")),
    (re.compile(r"(^|\.)discord(app)?\.com$", re.I), re.compile(r"^/api/webhooks/[^/]+/([^/]+)")),
    (re.compile(r"(^|\.)telegram\.org$", re.I), re.compile(r"^/bot([^/]+)")),
    (
        re.compile(r"(^|\.)victorops\.com$", re.I),
        re.compile(r"^/integrations/generic/[^/]+/alert/([^/]+)/([^/]+)"),
    ),
    (
        re.compile(r"(^|\.)(office\.com|office365\.com|logic\.azure\.com)$", re.I),
        re.compile(r"^/webhookb?2?/(.+)$"),
    ),
)


def _path_secrets(host: str, path: str) -> list[tuple[int, int]]:
    """The spans of ``path`` that are credentials, for the webhook URLs above."""
    for host_re, path_re in _PATH_SECRETS:
        if host_re.search(host):
            m = path_re.match(path)
            return [m.span(g) for g in range(1, len(m.groups()) + 1)] if m else []
    return []


def _mask_path(host: str, path: str) -> str:
    for start, end in reversed(_path_secrets(host, path)):
        path = path[:start] + MASK + path[end:]
    return path


def mask_url(url: str) -> str:
    """``url`` with its password, token-like query values and the credential in known webhook
    paths (Slack, Discord, Telegram, VictorOps, Teams) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = _mask_path(parts.hostname or "", parts.path) if parts.path else parts.path
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, _sep, password = userinfo.partition(":")
        # without a password the user name is the credential (https://TOKEN@host,
        # https://sk_live_x:@host), masked like one
        netloc = f"{user}:{MASK}@{hostport}" if password else f"{MASK}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(k) for k, _ in pairs):
            query = urlencode(
                [(k, MASK if is_secret_name(k) else v) for k, v in pairs],
                safe="*",
                quote_via=quote,
            )
    if netloc == parts.netloc and query == parts.query and path == parts.path:
        return url
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")


def mask_urls(text: str) -> str:
    """Free ``text`` with every URL in it masked by :func:`mask_url` (passwords, tokens).

    Examples
    --------
    >>> mask_urls("POST to http://u:pw@h/x?token=abc failed")
    'POST to http://u:***@h/x?token=*** failed'
    """
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)


def secret_values(url: str, headers: Mapping[str, str] | None = None) -> list[str]:
    """The literal secret strings in a URL and headers, for scrubbing free text."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        if parts.password:
            found.append(parts.password)
        elif parts.username:
            found.append(parts.username)
        found.extend(v for k, v in parse_qsl(parts.query) if is_secret_name(k) and v)
        found.extend(parts.path[a:b] for a, b in _path_secrets(parts.hostname or "", parts.path))
    except ValueError:
        pass
    for k, v in (headers or {}).items():
        if is_secret_name(k) and isinstance(v, str) and v:
            m = _SCHEME.match(v)
            found.append(v[m.end() :] if m else v)
    return [s for s in found if len(s) >= 3]


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for s in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(s, MASK)
    return text


def mask_json_fields(text: str, fields: Iterable[str]) -> str:
    """``text`` (JSON) with the string values of the named fields replaced by ``***``.

    Examples
    --------
    >>> mask_json_fields('{"dedup_key":"a","routing_key":"R0ut1ng"}', ["routing_key"])
    '{"dedup_key":"a","routing_key":"***"}'
    """
    for name in fields:
        pattern = re.compile(r'("' + re.escape(name) + r'"\s*:\s*)"(?:[^"\\]|\\.)*"')
        text = pattern.sub(lambda m: m.group(1) + f'"{MASK}"', text)
    return text
