"""Previews: the requests a sender would make, one row each, without any network.

Only the first ``n`` rows are read, so a preview of a million-row DataFrame costs the same as
one of ten rows. Secrets are masked unless ``reveal=True``.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from ._errors import MappingError
from ._request import FRAMING_HEADERS, Request, build_request
from ._rows import iter_rows
from ._secrets import mask_headers, mask_json_fields, mask_text, mask_url, secret_values

__all__ = ["PREVIEW_COLUMNS", "body_text", "curl_command", "preview_frame"]

#: ``error``: why the row would not be sent; ``note``: what will be sent differently from what
#: the mapping gave (headers the framing rules drop).
PREVIEW_COLUMNS = ["row", "method", "url", "headers", "body", "size", "curl", "error", "note"]
_BODY_SHOWN = 2000


def body_text(body: bytes) -> str:
    """The body as text when it is UTF-8, otherwise a marker with its size."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<binary: {len(body):,} bytes>"
    if len(text) > _BODY_SHOWN:
        return text[:_BODY_SHOWN] + f"... <{len(body):,} bytes in all>"
    return text


def curl_command(url: str, req: Request, *, reveal: bool = False) -> str:
    """A shell-quoted ``curl`` command that sends the same request; secrets masked by default.

    Examples
    --------
    >>> curl_command("http://127.0.0.1/x", Request({"X-A": "1"}, b"hi"))
    "curl -X POST 'http://127.0.0.1/x' -H 'X-A: 1' --data-binary hi"
    """
    headers = req.headers if reveal else mask_headers(req.headers)
    shown_url = url if reveal else mask_url(url)
    parts = ["curl", "-X", "POST", shlex.quote(shown_url)]
    for k, v in headers.items():
        parts += ["-H", shlex.quote(f"{k}: {v}")]
    # curl adds "Content-Type: application/x-www-form-urlencoded" to --data-binary; Flux
    # sends no Content-Type unless the mapping sets one, so blank it out when absent.
    if "Content-Type" not in headers and req.body:
        parts += ["-H", shlex.quote("Content-Type:")]
    body = req.body
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        escaped = "".join(f"\\{b:03o}" for b in body)
        return f"printf '{escaped}' | " + " ".join([*parts, "--data-binary", "@-"])
    if not reveal:  # a known secret inside the body is masked as in the body column
        secrets = secret_values(url, req.headers)
        if secrets:
            text = mask_text(text, secrets)
            body = text.encode("utf-8")
    if "\x00" in text or text.startswith("@"):
        escaped = "".join(f"\\{b:03o}" for b in body)
        return f"printf '{escaped}' | " + " ".join([*parts, "--data-binary", "@-"])
    if body:
        parts += ["--data-binary", shlex.quote(text)]
    return " ".join(parts)


def preview_frame(
    df: pd.DataFrame,
    map_fn: Callable[[Any], Any],
    url: str,
    n: int = 10,
    *,
    reveal: bool = False,
    secrets: Sequence[str] = (),
    secret_fields: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per request the first ``n`` rows of ``df`` would make; no network.

    ``secrets`` are literal values to mask too (tokens an endpoint puts in its URL or body);
    ``secret_fields`` name JSON body fields whose values are masked (``routing_key``).
    """
    head = df.iloc[:n]
    labels = head.index
    extra = [x for x in secrets if x]
    shown_url = url if reveal else mask_text(mask_url(url), extra)
    url_secrets = [*secret_values(url), *extra]
    records: list[dict[str, Any]] = []
    for position, row in enumerate(iter_rows(head)):
        try:
            req = build_request(map_fn, row, labels, position)
        except MappingError as exc:
            text = str(exc) if reveal else mask_text(str(exc), url_secrets)
            records.append(
                dict(
                    row=labels[position],
                    method="POST",
                    url=shown_url,
                    headers={},
                    body="",
                    size=0,
                    curl="",
                    error=text,
                    note="",
                )
            )
            continue
        note = ""
        dropped = [k for k in req.headers if k in FRAMING_HEADERS]
        if dropped:  # shown as sent: without them
            req = req._replace(
                headers={k: v for k, v in req.headers.items() if k not in FRAMING_HEADERS}
            )
            note = (
                f"not sent: {', '.join(dropped)} (the framing comes from the body and the "
                "target from the URL, as in Flux)"
            )
        if reveal:
            headers, body = req.headers, body_text(req.body)
            curl = curl_command(url, req, reveal=True)
        else:
            hidden = [*secret_values(url, req.headers), *extra]
            headers = {k: mask_text(v, extra) for k, v in mask_headers(req.headers).items()}
            body = mask_text(mask_json_fields(body_text(req.body), secret_fields), hidden)
            curl = curl_command(url, req)
            if extra or secret_fields:
                curl = mask_text(mask_json_fields(curl, secret_fields), hidden)
        records.append(
            dict(
                row=labels[position],
                method="POST",
                url=shown_url,
                headers=headers,
                body=body,
                size=len(req.body),
                curl=curl,
                error="",
                note=note,
            )
        )
    return pd.DataFrame.from_records(records, columns=PREVIEW_COLUMNS)
