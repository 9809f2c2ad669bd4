"""What the endpoint widget shows, as plain functions: no ipywidgets here.

Compiling the mapping source, listing the DataFrames of a namespace, the labels, the
preview and result tables as HTML, the short error messages and the "Show code" text.
Everything that reaches the page goes through :func:`scrub` or the engine's maskers.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ._frames import DASK, frame_kind, frame_rows, is_frame
from ._option_specs import option_flags
from ._secrets import mask_headers, mask_url, mask_urls
from ._summary import SendSummary

__all__ = [
    "ROW_CHOICES",
    "dataframe_names",
    "find_name",
    "outcome_html",
    "preview_html",
    "progress_text",
    "result_html",
    "rows_of",
    "rows_text",
    "send_label",
    "short_error",
    "show_code",
]

_MAX_MESSAGE = 300
_MAX_CELL = 240
#: The result rows the widget can list: every row, the failed ones, the ones never attempted.
ROW_CHOICES = ("all", "failed", "not sent")
#: Colours of the outcome bar by tone (``_summary.Outcome.tone``).
_TONES = {"ok": "#2e7d32", "warn": "#f9a825", "fail": "#c62828", "none": "#9e9e9e"}


def short_error(exc: BaseException) -> str:
    """One short line for ``exc``: its message (first line, trimmed, URLs masked)."""
    from ._errors import FluxMagicError

    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[0].strip() if lines else ""
    if not isinstance(exc, FluxMagicError):
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return mask_urls(text)


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
    text = "" if value is None else f"{value:.4g}" if type(value) is float else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(mask_urls(text))


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
    """The preview as an HTML table (rows whose mapping failed in red), then every curl
    command in full, ready to copy."""
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
            f'<b style="color:#b00020">{_cell(err)}</b>' if err else "",
        ]
        style = "background:#fde7e9" if err else ""
        rows.append((style, cells))
    head = ["row", "method", "url", "headers", "body", "size", "error"]
    curls = [str(c) for c in preview["curl"].tolist() if c] if "curl" in preview else []
    block = ""
    if curls:
        commands = html.escape(mask_urls("\n".join(curls)))
        block = (
            "<div>The same requests as curl commands (secrets masked):</div>"
            f'<pre class="flux-magic-curl" style="{_CODE_STYLE}">{commands}</pre>'
        )
    return (
        f"<div>{html.escape(summary)}</div>"
        + _table(head, rows, "flux-magic-preview-table")
        + block
    )


_CODE_STYLE = (
    "white-space:pre-wrap;word-break:break-all;background:#f6f8fa;border:1px solid #ddd;"
    "padding:6px;font-size:12px;user-select:text"
)


def rows_of(result: pd.DataFrame, which: str) -> pd.DataFrame:
    """The rows of ``result`` to list: "all", "failed" (attempted, not sent) or "not sent"
    (never attempted)."""
    if which == "all" or "_sent" not in result:
        return result
    not_sent = (
        result["_error"].astype(str).str.startswith("not sent:")
        if "_error" in result
        else (pd.Series(False, index=result.index))
    )
    if which == "not sent":
        return result.loc[not_sent.to_numpy()]
    failed = (result["_sent"] != "true") & ~not_sent
    return result.loc[failed.to_numpy()]


def outcome_html(summary: SendSummary) -> str:
    """The outcome by class as a bar of coloured segments, with counts and the latency."""
    total = max(summary.rows, 1)
    segments, legend = [], []
    for o in summary.outcomes:
        color = _TONES.get(o.tone, "#777")
        width = 100.0 * o.rows / total
        title = html.escape(f"{o.label}: {o.rows:,}")
        segments.append(
            f'<div class="flux-magic-outcome-{o.tone}" title="{title}" '
            f'style="width:{width:.3f}%;background:{color};height:100%"></div>'
        )
        legend.append(
            f'<span style="white-space:nowrap;margin-right:12px">'
            f'<span style="display:inline-block;width:10px;height:10px;background:{color};'
            f'margin-right:4px"></span>{html.escape(o.label)} <b>{o.rows:,}</b></span>'
        )
    latency = ""
    if summary.latency is not None:
        latency = html.escape(summary.outcome_line().partition(". ")[2])
    return (
        '<div class="flux-magic-outcome-bar" style="display:flex;width:600px;height:14px;'
        f'border:1px solid #bbb;margin:4px 0">{"".join(segments)}</div>'
        f'<div class="flux-magic-outcome-legend">{"".join(legend)}</div>'
        + (f'<div style="color:#555">{latency}</div>' if latency else "")
    )


def result_html(result: pd.DataFrame, which: str = "all", max_rows: int = 50) -> str:
    """The rows ``which`` of the result as an HTML table, ``_sent`` marked ✔ / ✘."""
    rows_shown = rows_of(result, which)
    total = len(rows_shown)
    summary = f"{total:,} {'rows' if which == 'all' else which + ' rows'}"
    if total > max_rows:
        summary += f" (the first {max_rows} shown; all are in the result DataFrame)"
    head = ["", *(str(c) for c in result.columns)]
    rows: list[tuple[str, list[str]]] = []
    for label, rec in zip(
        rows_shown.index[:max_rows], rows_shown.head(max_rows).to_dict("records"), strict=True
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


def show_code(
    *,
    df_name: str,
    url: str,
    mapping: str,
    options: Mapping[str, Any],
    output_name: str = "",
) -> str:
    """The ``%%flux_endpoint`` cell equivalent to the widget's settings (URL secrets masked).

    ``options`` holds the sending options by their ``Options`` name; each one that differs
    from its default becomes the magic's flag.
    """
    parts = ["%%flux_endpoint", df_name, "--url", shlex.quote(mask_url(url))]
    parts += option_flags(options)
    if output_name:
        parts += ["-o", output_name]
    return " ".join(parts) + "\n" + mapping.strip("\n") + "\n"
