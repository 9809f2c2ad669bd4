"""What the endpoint widget shows, as plain functions: no ipywidgets here.

Compiling the mapping source, listing the DataFrames of a namespace, the labels, the
preview and result tables as HTML, the short error messages and the "Show code" text.
Everything that reaches the page goes through :func:`scrub` or the engine's maskers.
"""

from __future__ import annotations

import html
import math
import re
import shlex
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import pandas as pd

from ._frames import DASK, frame_kind, frame_rows, is_frame
from ._options import Options
from ._secrets import mask_headers, mask_url

__all__ = [
    "dataframe_names",
    "find_name",
    "number",
    "option_flags",
    "preview_html",
    "progress_text",
    "result_html",
    "rows_text",
    "scrub",
    "send_label",
    "short_error",
    "show_code",
]

_CREDENTIALS_IN_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s:/@]*):[^\s/@]+@"
)
_MAX_MESSAGE = 300
_MAX_CELL = 240


def scrub(text: str) -> str:
    """``text`` with any ``scheme://user:password@`` credentials replaced by ``***``."""
    return _CREDENTIALS_IN_URL.sub(r"\g<scheme>\g<user>:***@", text)


def short_error(exc: BaseException) -> str:
    """One short line for ``exc``: its message (first line, trimmed, scrubbed), no traceback."""
    from ._errors import FluxMagicError

    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[0].strip() if lines else ""
    if not isinstance(exc, FluxMagicError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return scrub(text)


def dataframe_names(namespace: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The public names bound to DataFrames (pandas, Polars, Dask) in ``namespace``, each with
    its size as text ("3 rows"; Dask and lazy frames are not counted), sorted."""
    found = [
        (name, rows_text(value))
        for name, value in list(namespace.items())
        if is_frame(value) and not name.startswith("_")
    ]
    return sorted(found, key=lambda item: item[0].lower())


def rows_text(df: Any) -> str:
    """ "3 rows", or what a frame is when counting its rows would mean computing it."""
    rows = frame_rows(df)
    if rows is not None:
        return f"{rows:,} rows"
    if frame_kind(df) == DASK:
        return f"Dask, {df.npartitions:,} partitions"
    return "lazy"


def find_name(namespace: Mapping[str, Any], obj: object) -> str | None:
    """A public name in ``namespace`` bound to exactly ``obj``, if any."""
    for name, value in list(namespace.items()):
        if value is obj and not name.startswith("_"):
            return name
    return None


def send_label(rows: int | None) -> str:
    """The Send button's text: ``"Send 1,234 requests"`` (``"Send"`` when not counted)."""
    if rows is None:
        return "Send"
    return f"Send {rows:,} request{'' if rows == 1 else 's'}"


def progress_text(done: int, total: int, sent: int, failed: int, elapsed: float) -> str:
    """The live counts under the progress bar."""
    rate = done / elapsed if elapsed > 0 else 0.0
    return (
        f"{done:,} / {total:,} · sent {sent:,} · failed {failed:,} · {rate:,.0f} req/s · "
        f"{elapsed:.1f} s"
    )


def _cell(value: object, limit: int = _MAX_CELL) -> str:
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(scrub(text))


_TABLE_STYLE = (
    "border-collapse:collapse;font-size:12px;"
    "font-family:var(--jp-code-font-family,monospace);margin:4px 0"
)
_TD = (
    "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top;white-space:pre-wrap"
)


def _table(head: list[str], rows: list[tuple[str, list[str]]], css_class: str) -> str:
    out = [f'<table class="{css_class}" style="{_TABLE_STYLE}"><thead><tr>']
    out += [f'<th style="{_TD};background:#f3f3f3">{html.escape(h)}</th>' for h in head]
    out.append("</tr></thead><tbody>")
    for row_style, cells in rows:
        out.append(f'<tr style="{row_style}">')
        out += [f'<td style="{_TD}">{c}</td>' for c in cells]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def preview_html(preview: pd.DataFrame, total_rows: int | None) -> str:
    """The preview as an HTML table; rows whose mapping failed are highlighted in red."""
    errors = int((preview["error"].astype(str) != "").sum()) if "error" in preview else 0
    shown = len(preview)
    of = f" of {total_rows:,}" if total_rows is not None else ""
    summary = f"First {shown:,}{of} requests (nothing sent)."
    if errors:
        summary += f" {errors} with a mapping error, highlighted."
    rows: list[tuple[str, list[str]]] = []
    for rec in preview.to_dict("records"):
        err = str(rec.get("error") or "")
        headers = rec.get("headers") or {}
        if isinstance(headers, dict):
            header_text = "\n".join(f"{k}: {v}" for k, v in mask_headers(headers).items())
        else:
            header_text = str(headers)
        cells = [
            _cell(rec.get("row")),
            _cell(rec.get("method")),
            _cell(mask_url(str(rec.get("url") or ""))),
            _cell(header_text),
            _cell(rec.get("body")),
            _cell(rec.get("size")),
            f"<code>{_cell(rec.get('curl'), 600)}</code>",
            f'<b style="color:#b00020">{_cell(err)}</b>' if err else "",
        ]
        style = "background:#fde7e9" if err else ""
        rows.append((style, cells))
    head = ["row", "method", "url", "headers", "body", "size", "curl", "error"]
    return f"<div>{html.escape(summary)}</div>" + _table(head, rows, "flux-magic-preview-table")


def result_html(result: pd.DataFrame, max_rows: int = 50) -> str:
    """The result as an HTML table with ``_sent`` marked: ✔ true (green), ✘ false (red)."""
    total = len(result)
    sent = int((result["_sent"] == "true").sum()) if "_sent" in result else 0
    summary = f"{total:,} rows · {sent:,} sent · {total - sent:,} not sent"
    if total > max_rows:
        summary += f" (first {max_rows} shown)"
    head = ["", *(str(c) for c in result.columns)]
    rows: list[tuple[str, list[str]]] = []
    for label, rec in zip(
        result.index[:max_rows], result.head(max_rows).to_dict("records"), strict=True
    ):
        ok = rec.get("_sent") == "true"
        cells = [_cell(label)]
        for col in result.columns:
            value = rec[col]
            if col == "_sent":
                mark = "✔" if ok else "✘"
                color = "#1b7f3b" if ok else "#b00020"
                cells.append(
                    f'<b style="color:{color};white-space:nowrap">{mark} {_cell(value)}</b>'
                )
            else:
                cells.append(_cell(value))
        rows.append(("" if ok else "background:#fde7e9", cells))
    return f"<div>{html.escape(summary)}</div>" + _table(head, rows, "flux-magic-result-table")


def number(value: float) -> str:
    """``value`` as the shortest text that reads back as the same number."""
    if isinstance(value, int) or not math.isfinite(value):
        return str(value)
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def option_flags(options: Mapping[str, Any]) -> list[str]:
    """The ``%%flux_endpoint`` flags for every option of ``options`` that is not the default.

    Option names are those of :class:`flux_magic.Options`; flags are spelled as the magic
    generates them (``--max-redirects 3``, ``--idempotency-key``, ``--no-verify``,
    ``--allow-hosts a.example,b.example``, ``--rate none``); ``errors="raise"`` is
    ``--strict``. Unknown names are ignored.
    """
    defaults = Options()
    flags: list[str] = []
    for field in fields(Options):
        name = field.name
        if name not in options:
            continue
        value = options[name]
        default = getattr(defaults, name)
        if name == "allow_hosts":
            value = Options(allow_hosts=value).allow_hosts  # normalised, as the magic sees it
        if value == default and isinstance(value, bool) == isinstance(default, bool):
            continue
        flag = "--" + name.replace("_", "-")
        if name == "errors":
            flags += ["--strict"] if value == "raise" else [flag, shlex.quote(str(value))]
        elif isinstance(value, bool):
            flags.append(flag if value else "--no-" + name.replace("_", "-"))
        elif value is None:
            flags += [flag, "none"]
        elif isinstance(value, int | float):
            flags += [flag, number(value)]
        elif isinstance(value, tuple | list):
            flags += [flag, shlex.quote(",".join(str(v) for v in value))]
        else:
            flags += [flag, shlex.quote(str(value))]
    return flags


def show_code(
    *,
    df_name: str,
    url: str,
    mapping: str,
    concurrency: int = 1,
    timeout: float | None = 30.0,
    sent_when: str = "200",
    strict: bool = False,
    output_name: str = "",
    options: Mapping[str, Any] | None = None,
) -> str:
    """The ``%%flux_endpoint`` cell equivalent to the widget's settings (URL secrets masked).

    ``options`` holds any further sending options by their ``Options`` name (``retries``,
    ``verify``, ...); each one that differs from its default becomes the magic's flag.
    """
    shown_url = mask_url(url)
    parts = ["%%flux_endpoint", df_name, "--url", shlex.quote(shown_url)]
    every: dict[str, Any] = {
        "concurrency": concurrency,
        "timeout": timeout,
        "sent_when": sent_when,
        "errors": "raise" if strict else "collect",
    }
    every.update(options or {})
    parts += option_flags(every)
    if output_name:
        parts += ["-o", output_name]
    return " ".join(parts) + "\n" + mapping.strip("\n") + "\n"
