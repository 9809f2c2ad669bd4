"""The endpoint widget: pick a DataFrame, type a URL and a mapping, preview, send, cancel.

Core ipywidgets only, so it works in JupyterLab, Notebook 7 and VS Code. The widget holds
no HTTP or pandas logic: it builds ``flux_magic.endpoint(url, **options)(mapping)`` and calls
its ``preview`` and the sender; the send runs on a background thread so the kernel stays
responsive, and Cancel sets the sender's cancel event.

Examples
--------
>>> import pandas as pd
>>> from flux_magic.widget import EndpointWidget
>>> ui = EndpointWidget(pd.DataFrame({"_value": [1, 2]}), url="http://127.0.0.1:9/")
>>> ui.send_button.description
'Send 2 requests'
"""

from __future__ import annotations

import functools
import html
import keyword
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, TypeVar, cast

import ipywidgets as widgets
import pandas as pd

from . import _widget_text as text
from ._endpoint import Sender, endpoint
from ._errors import EndpointError, FluxMagicError, SendInterrupted, UsageError
from ._mapping import (
    DEFAULT_MAPPING,
    MappingSourceError,
    compile_mapping,
    mapping_syntax_error,
)
from ._options import DEFAULT_TIMEOUT, OPTION_DOCS, Options
from ._request import check_url
from ._secrets import mask_url
from ._summary import summarize
from ._widget_endpoints import EndpointChoice

__all__ = ["EndpointWidget"]

_GIVEN = "\x00given"  # the picker's key for a DataFrame passed to the constructor
_LABEL = {"description_width": "110px"}
_STYLE = """<style>
.flux-magic-mapping textarea {
  font-family: var(--jp-code-font-family, monospace); font-size: 13px; line-height: 1.35;
}
.flux-magic-widget pre { white-space: pre-wrap; margin: 2px 0; }
</style>"""
_PROGRESS_INTERVAL = 0.1  # seconds between two progress redraws
_DEFAULTS = Options()
#: The options of the collapsed "Advanced" section, in the order they are laid out.
ADVANCED_OPTIONS = (
    "retries",
    "backoff",
    "rate",
    "retry_unknown",
    "idempotency_key",
    "allow_hosts",
    "block_private",
    "verify",
    "max_redirects",
    "max_response_bytes",
    "keep_response",
    "journal",
)
_ADVANCED_LABEL = {"description_width": "140px"}

_F = TypeVar("_F", bound=Callable[..., None])


def _quiet(method: _F) -> _F:
    """Show any error of a UI callback as a short message in the widget, never a traceback."""

    @functools.wraps(method)
    def wrapper(self: EndpointWidget, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, *args, **kwargs)
        except Exception as exc:
            self._say(text.short_error(exc), error=True)

    return wrapper  # type: ignore[return-value]


def _user_namespace() -> dict[str, Any]:
    """The IPython user namespace when running under IPython, else an empty dict."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    return shell.user_ns if shell is not None else {}


class EndpointWidget(widgets.VBox):
    """Preview and send one HTTP POST per DataFrame row, interactively.

    Parameters
    ----------
    df : pandas.DataFrame, optional
        The rows to send. Without it, pick one of the DataFrames of ``namespace`` by name.
    url : str
        Where to POST. Checked as you type.
    mapping : str, optional
        Source of the mapping function: a Python expression giving a function of one row
        (evaluated in ``namespace``) or a Flux function literal ``(r) => ({...})``. Defaults
        to the Flux docs example in Python form.
    namespace : dict, optional
        Where DataFrames are listed, the mapping is evaluated and the result variable is
        assigned. Defaults to the IPython user namespace.
    concurrency, timeout, sent_when, strict :
        The sending options of :func:`flux_magic.endpoint` (``strict`` is ``errors="raise"``).
    errors : {"collect", "raise"}, optional
        As in :func:`flux_magic.endpoint`; when given it sets ``strict``.
    retries, retry_unknown, backoff, idempotency_key, rate, block_private, allow_hosts, \
verify, max_redirects, max_response_bytes, keep_response, journal :
        The other sending options of :func:`flux_magic.endpoint`, same names and defaults
        (see ``flux_magic.OPTION_DOCS``); they sit in the collapsed "Advanced" section.
        Invalid values raise ``flux_magic.UsageError`` here; typed into the widget, they
        are reported in it when you press Preview, Send or Show code.
    output_name : str
        If set, the result is also assigned to this variable in ``namespace``.
    preview_rows : int
        How many requests Preview shows.
    confirm_above : int
        Send asks for confirmation when the DataFrame has more rows than this.

    Attributes
    ----------
    result : pandas.DataFrame or None
        The last send's result: the input columns plus ``_status``, ``_sent`` and ``_error``.
    preview_frame : pandas.DataFrame or None
        The last preview, as returned by ``Sender.preview``.

    Examples
    --------
    >>> ui = EndpointWidget(url="http://127.0.0.1:8086/")  # doctest: +SKIP
    >>> ui  # doctest: +SKIP
    """

    def __init__(
        self,
        df: pd.DataFrame | None = None,
        url: str = "",
        mapping: str | None = None,
        *,
        namespace: dict[str, Any] | None = None,
        concurrency: int = _DEFAULTS.concurrency,
        timeout: float = DEFAULT_TIMEOUT,
        sent_when: str = _DEFAULTS.sent_when,
        strict: bool = False,
        output_name: str = "",
        preview_rows: int = 10,
        confirm_above: int = 1000,
        errors: str | None = None,
        retries: int = _DEFAULTS.retries,
        retry_unknown: bool = _DEFAULTS.retry_unknown,
        backoff: float = _DEFAULTS.backoff,
        idempotency_key: bool = _DEFAULTS.idempotency_key,
        rate: float | None = _DEFAULTS.rate,
        block_private: bool = _DEFAULTS.block_private,
        allow_hosts: str | Sequence[str] = _DEFAULTS.allow_hosts,
        verify: bool = _DEFAULTS.verify,
        max_redirects: int = _DEFAULTS.max_redirects,
        max_response_bytes: int = _DEFAULTS.max_response_bytes,
        keep_response: int = _DEFAULTS.keep_response,
        journal: str | None = _DEFAULTS.journal,
    ) -> None:
        if errors is not None:
            strict = errors == "raise"
        if cast(object, timeout) is None:
            raise UsageError(
                "the widget needs a timeout in seconds; no limit (None) is for endpoint() and "
                "%%flux_endpoint."
            )
        given = Options(  # check them now: a clear UsageError rather than a widget trait error
            concurrency=concurrency,
            timeout=timeout,
            sent_when=cast(Any, str(sent_when)),
            errors=cast(Any, errors or ("raise" if strict else "collect")),
            retries=retries,
            retry_unknown=retry_unknown,
            backoff=backoff,
            idempotency_key=idempotency_key,
            rate=rate,
            block_private=block_private,
            allow_hosts=cast(Any, allow_hosts),
            verify=verify,
            max_redirects=max_redirects,
            max_response_bytes=max_response_bytes,
            keep_response=keep_response,
            journal=journal,
        )
        self.namespace: dict[str, Any] = _user_namespace() if namespace is None else namespace
        self.confirm_above = confirm_above
        self.result: pd.DataFrame | None = None
        self.preview_frame: pd.DataFrame | None = None
        self._given = df
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._last_draw = 0.0
        self._started = 0.0
        self._counts = (0, 0, 0, 0)  # the last (done, total, sent, failed) of the sender
        self._cell: tuple[Any, dict[str, Any]] | None = _current_cell()
        self._notes: list[str] = []  # warnings of the last build (e.g. verify=False)

        self.df_picker = widgets.Dropdown(
            description="DataFrame", style=_LABEL, layout=widgets.Layout(width="420px")
        )
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="List the DataFrames again"
        )
        #: http.endpoint or one of Flux's notification packages, with its config fields.
        self.endpoint_choice = EndpointChoice()
        self.url_text = widgets.Text(
            value=url,
            description="URL",
            placeholder="http://127.0.0.1:8080/hook",
            style=_LABEL,
            layout=widgets.Layout(width="620px"),
        )
        self.url_status = widgets.HTML()
        self.mapping_text = widgets.Textarea(
            value=DEFAULT_MAPPING if mapping is None else mapping,
            description="Mapping",
            placeholder="lambda r: {'headers': {...}, 'data': b'...'}  or  (r) => ({...})",
            style=_LABEL,
            rows=7,
            continuous_update=False,
            layout=widgets.Layout(width="820px"),
        )
        self.mapping_text.add_class("flux-magic-mapping")
        self.mapping_status = widgets.HTML()
        self.concurrency = widgets.BoundedIntText(
            value=concurrency,
            min=1,
            max=256,
            description="concurrency",
            style=_LABEL,
            layout=widgets.Layout(width="200px"),
        )
        self.timeout = widgets.BoundedFloatText(
            value=timeout,
            min=0.1,
            max=3600.0,
            description="timeout (s)",
            style=_LABEL,
            layout=widgets.Layout(width="200px"),
        )
        self.sent_when = widgets.ToggleButtons(
            options=[("200 (Flux)", "200"), ("any 2xx", "2xx")],
            value=str(sent_when),
            description="sent when",
            style={"description_width": "70px", "button_width": "90px"},
            layout=widgets.Layout(width="auto"),
        )
        self.strict = widgets.Checkbox(
            value=strict, description="strict: stop at the first failed row", indent=False
        )
        self.retries = _int_control("retries", given.retries)
        self.backoff = _float_control("backoff", given.backoff, "backoff (s)")
        rate_text = "" if given.rate is None else text.number(given.rate)
        self.rate = _text_control("rate", rate_text, "no limit", "rate (req/s)")
        self.retry_unknown = _bool_control("retry_unknown", given.retry_unknown)
        self.idempotency_key = _bool_control("idempotency_key", given.idempotency_key)
        self.allow_hosts = _text_control(
            "allow_hosts", ",".join(given.allow_hosts), "any host (a.example, *.b.example)"
        )
        self.allow_hosts.layout.width = "520px"
        self.block_private = _bool_control("block_private", given.block_private)
        self.verify = _bool_control("verify", given.verify, "verify TLS certificates")
        self.max_redirects = _int_control("max_redirects", given.max_redirects)
        self.max_response_bytes = _int_control("max_response_bytes", given.max_response_bytes)
        self.keep_response = _int_control("keep_response", given.keep_response)
        self.journal = _text_control(
            "journal", given.journal or "", "none (a path: sends.sqlite)", "journal (SQLite)"
        )
        self.journal.layout.width = "520px"
        #: The controls of the "Advanced" section by option name (``flux_magic.Options``).
        self.advanced_controls: dict[str, widgets.ValueWidget] = {
            name: getattr(self, name) for name in ADVANCED_OPTIONS
        }
        self.advanced = widgets.Accordion(
            [
                widgets.VBox(
                    [
                        widgets.HTML(
                            '<span style="color:#666">Hover over an option for what it does; '
                            "the defaults are those of <code>flux_magic.endpoint</code>.</span>"
                        ),
                        widgets.HBox([self.retries, self.backoff, self.rate]),
                        widgets.HBox([self.retry_unknown, self.idempotency_key]),
                        widgets.HBox([self.allow_hosts, self.block_private]),
                        widgets.HBox([self.max_redirects, self.max_response_bytes]),
                        widgets.HBox([self.keep_response, self.verify]),
                        widgets.HBox([self.journal]),
                    ]
                )
            ],
            titles=("Advanced",),
            selected_index=None,  # collapsed
            layout=widgets.Layout(width="820px"),
        )
        self.advanced.add_class("flux-magic-advanced")
        self.output_name = widgets.Text(
            value=output_name,
            description="result name",
            placeholder="variable (optional)",
            style=_LABEL,
            layout=widgets.Layout(width="300px"),
        )
        self.preview_rows = widgets.BoundedIntText(
            value=preview_rows,
            min=1,
            max=1000,
            description="preview rows",
            style=_LABEL,
            layout=widgets.Layout(width="200px"),
        )
        self.preview_button = widgets.Button(
            description="Preview", icon="eye", tooltip="Show the requests; nothing is sent"
        )
        self.send_button = widgets.Button(
            description="Send",
            button_style="primary",
            icon="send",
            layout=widgets.Layout(width="auto", min_width="170px"),
        )
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop", disabled=True
        )
        self.code_button = widgets.Button(
            description="Show code", icon="code", tooltip="The equivalent %%flux_endpoint cell"
        )
        self.confirm_text = widgets.HTML()
        self.confirm_button = widgets.Button(button_style="danger")
        self.back_button = widgets.Button(description="Back")
        self.confirm_box = widgets.HBox(
            [self.confirm_text, self.confirm_button, self.back_button],
            layout=widgets.Layout(display="none"),
        )
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, bar_style="info", layout=widgets.Layout(width="420px")
        )
        self.progress_text = widgets.HTML()
        self.progress_box = widgets.HBox(
            [self.progress, self.progress_text], layout=widgets.Layout(display="none")
        )
        self.message = widgets.HTML()
        self.preview_table = widgets.HTML()
        self.result_table = widgets.HTML()
        self.code = widgets.HTML()
        self.output = widgets.Output()

        for w, name in [
            (self.df_picker, "dataframe"),
            (self.url_text, "url"),
            (self.url_status, "url-status"),
            (self.mapping_status, "mapping-status"),
            (self.message, "message"),
            (self.preview_table, "preview"),
            (self.result_table, "result"),
            (self.code, "code"),
            (self.progress_text, "progress-text"),
            (self.output, "output"),
        ]:
            w.add_class(f"flux-magic-{name}")

        self.url_row = widgets.HBox([self.url_text, self.url_status])
        self._inputs: list[widgets.DOMWidget] = [
            self.df_picker,
            self.refresh_button,
            self.endpoint_choice.dropdown,
            self.url_text,
            self.mapping_text,
            self.concurrency,
            self.timeout,
            self.sent_when,
            self.strict,
            *(cast(widgets.DOMWidget, c) for c in self.advanced_controls.values()),
            self.output_name,
            self.preview_rows,
            self.preview_button,
            self.send_button,
        ]
        super().__init__(
            [
                widgets.HTML(_STYLE + "<b>http.endpoint</b> — one POST per row"),
                widgets.HBox([self.df_picker, self.refresh_button]),
                self.endpoint_choice,
                self.url_row,
                self.mapping_text,
                self.mapping_status,
                widgets.HBox([self.concurrency, self.timeout, self.sent_when]),
                widgets.HBox([self.strict, self.output_name, self.preview_rows]),
                self.advanced,
                widgets.HBox(
                    [self.preview_button, self.send_button, self.cancel_button, self.code_button]
                ),
                self.confirm_box,
                self.progress_box,
                self.message,
                self.preview_table,
                self.result_table,
                self.code,
                self.output,
            ]
        )
        self.add_class("flux-magic-widget")

        self.refresh_button.on_click(self._on_refresh)
        self.preview_button.on_click(self._on_preview)
        self.send_button.on_click(self._on_send)
        self.cancel_button.on_click(self._on_cancel)
        self.code_button.on_click(self._on_code)
        self.confirm_button.on_click(self._on_confirm)
        self.back_button.on_click(self._on_back)
        self.df_picker.observe(self._on_df_change, names="value")
        self.url_text.observe(self._on_url_change, names="value")
        self.mapping_text.observe(self._on_mapping_change, names="value")
        self.endpoint_choice.dropdown.observe(self._on_endpoint_change, names="value")
        for control in self.advanced_controls.values():
            control.observe(self._on_advanced_change, names="value")

        self._update_advanced_title()

        self.refresh()
        self._check_url()
        self._check_mapping_syntax()

    # ----------------------------------------------------------------- public methods

    def refresh(self) -> None:
        """List the DataFrames of the namespace again, keeping the current choice."""
        current = self.df_picker.value
        options: list[tuple[str, str]] = []
        if self._given is not None and text.find_name(self.namespace, self._given) is None:
            options.append((f"(passed in) — {len(self._given):,} rows", _GIVEN))
        options += [
            (f"{name} — {rows:,} rows", name) for name, rows in text.dataframe_names(self.namespace)
        ]
        keys = [key for _, key in options]
        if current not in keys:
            given_name = (
                text.find_name(self.namespace, self._given) if self._given is not None else None
            )
            current = given_name or (_GIVEN if _GIVEN in keys else (keys[0] if keys else None))
        self.df_picker.options = options
        self.df_picker.value = current
        self._update_send_label()

    @property
    def sending(self) -> bool:
        """Whether a send is running."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background send to finish; ``False`` if it still runs after ``timeout``."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def options(self) -> dict[str, Any]:
        """The sending options set in the widget, as keyword arguments of ``endpoint()``.

        Raises ``flux_magic.UsageError`` when a field cannot be read (e.g. rate "fast");
        the values themselves are checked by ``endpoint()``.
        """
        values: dict[str, Any] = {
            "concurrency": self.concurrency.value,
            "timeout": self.timeout.value,
            "sent_when": self.sent_when.value,
            "errors": "raise" if self.strict.value else "collect",
        }
        values.update(self.advanced_values())
        return values

    def advanced_values(self) -> dict[str, Any]:
        """The options of the "Advanced" section by name, read from their controls."""
        values = {name: control.value for name, control in self.advanced_controls.items()}
        values["rate"] = _read_rate(self.rate.value)
        values["allow_hosts"] = self.allow_hosts.value.strip()
        values["journal"] = self.journal.value.strip() or None
        return values

    def code_text(self) -> str:
        """The ``%%flux_endpoint`` cell equivalent to the current settings.

        Raises ``flux_magic.UsageError`` when an option is invalid: such a cell would not run.
        For a notification package it is the Python code instead.
        """
        Options(**self.options())
        if not self.endpoint_choice.is_http:
            return self.endpoint_choice.code(
                self._df_name(), self.mapping_text.value, self._package_options()
            )
        return text.show_code(
            df_name=self._df_name(),
            url=self.url_text.value.strip(),
            mapping=self.mapping_text.value,
            concurrency=self.concurrency.value,
            timeout=self.timeout.value,
            sent_when=self.sent_when.value,
            strict=self.strict.value,
            output_name=self.output_name.value.strip(),
            options=self.advanced_values(),
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the widget, remembering the cell it is shown in (for the result output)."""
        self._cell = _current_cell() or self._cell
        return super()._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        url = mask_url(self.url_text.value.strip())
        return f"EndpointWidget(df={self._df_name()!r}, url={url!r})"

    # ----------------------------------------------------------------- callbacks

    @_quiet
    def _on_refresh(self, _button: object = None) -> None:
        self.refresh()

    @_quiet
    def _on_df_change(self, _change: object = None) -> None:
        self._update_send_label()
        self._forget_preview()

    @_quiet
    def _on_url_change(self, _change: object = None) -> None:
        self._check_url()
        self._forget_preview()

    @_quiet
    def _on_mapping_change(self, _change: object = None) -> None:
        self._check_mapping_syntax()
        self._forget_preview()

    @_quiet
    def _on_endpoint_change(self, _change: object = None) -> None:
        """Another endpoint: its fields, its mapping template, and its rule for _sent."""
        choice = self.endpoint_choice
        self.url_row.layout.display = None if choice.is_http else "none"
        self.mapping_text.value = DEFAULT_MAPPING if choice.is_http else choice.spec.template
        self.sent_when.value = "200" if choice.is_http else "2xx"
        self._forget_preview()

    def _package_options(self) -> dict[str, Any]:
        """The options that differ from a notification endpoint's defaults (for Show code)."""
        defaults = {**{f.name: f.default for f in fields(Options)}, "sent_when": "2xx"}
        defaults["allow_hosts"] = ""
        return {k: v for k, v in self.options().items() if defaults.get(k) != v}

    @_quiet
    def _on_advanced_change(self, _change: object = None) -> None:
        self._update_advanced_title()

    def _update_advanced_title(self) -> None:
        """Say on the collapsed section how many of its options differ from the defaults."""
        try:
            changed = text.option_flags(self.advanced_values())
        except UsageError:
            self.advanced.titles = ("Advanced (a value cannot be read)",)
            return
        count = sum(flag.startswith("--") for flag in changed)
        self.advanced.titles = (f"Advanced ({count} changed)" if count else "Advanced",)

    def _forget_preview(self) -> None:
        """A preview of other settings would mislead: drop it."""
        self.preview_table.value = ""
        self.preview_frame = None

    @_quiet
    def _on_preview(self, _button: object = None) -> None:
        self._say("")
        self.code.value = ""
        sender, df = self._build()
        if sender is None or df is None:
            return
        try:
            preview = sender.preview(df, n=self.preview_rows.value)
        except FluxMagicError as exc:
            self._say(text.short_error(exc), error=True)
            return
        self.preview_frame = preview
        self.preview_table.value = text.preview_html(preview, len(df))
        if self._notes:
            self._say(" ".join(self._notes))

    @_quiet
    def _on_send(self, _button: object = None) -> None:
        self._say("")
        self._hide_confirm()
        sender, df = self._build()
        if sender is None or df is None or not self._check_output_name():
            return
        if len(df) > self.confirm_above:
            self.confirm_text.value = (
                f"Really send <b>{len(df):,}</b> requests to "
                f"<code>{html.escape(sender.hooks.mask(sender.url))}</code>? "
            )
            self.confirm_button.description = f"Yes, {text.send_label(len(df)).lower()}"
            self.confirm_box.layout.display = "flex"
            return
        self._start(sender, df)

    @_quiet
    def _on_confirm(self, _button: object = None) -> None:
        self._hide_confirm()
        sender, df = self._build()
        if sender is None or df is None or not self._check_output_name():
            return
        self._start(sender, df)

    @_quiet
    def _on_back(self, _button: object = None) -> None:
        self._hide_confirm()

    @_quiet
    def _on_cancel(self, _button: object = None) -> None:
        if self.sending:
            self._cancel.set()
            self.cancel_button.disabled = True
            self._say("Cancelling…")

    @_quiet
    def _on_code(self, _button: object = None) -> None:
        code = self.code_text()
        self.code.value = (
            "<div>The same, as a cell (<code>%load_ext flux_magic</code> first):</div>"
            f"<pre>{html.escape(code)}</pre>"
        )
        if mask_url(self.url_text.value.strip()) != self.url_text.value.strip():
            self._say("The URL's secrets are masked in this code: put them back before running.")

    # ----------------------------------------------------------------- helpers

    def _say(self, message: str, *, error: bool = False) -> None:
        if not message:
            self.message.value = ""
            return
        color = "#b00020" if error else "inherit"
        prefix = "⚠ " if error else ""
        self.message.value = (
            f'<div style="color:{color}">{prefix}{html.escape(text.scrub(message))}</div>'
        )

    def _hide_confirm(self) -> None:
        self.confirm_box.layout.display = "none"

    def _selected_df(self) -> pd.DataFrame | None:
        key = self.df_picker.value
        if key is None:
            return None
        if key == _GIVEN:
            return self._given
        value = self.namespace.get(key)
        return value if isinstance(value, pd.DataFrame) else None

    def _df_name(self) -> str:
        key = self.df_picker.value
        if key is None or key == _GIVEN:
            found = text.find_name(self.namespace, self._given) if self._given is not None else None
            return found or "df"
        return str(key)

    def _update_send_label(self) -> None:
        df = self._selected_df()
        self.send_button.description = text.send_label(len(df)) if df is not None else "Send"

    def _check_url(self) -> bool:
        url = self.url_text.value.strip()
        if not url:
            self.url_status.value = '<span style="color:#666">type the URL to POST to</span>'
            return False
        try:
            check_url(url)
        except FluxMagicError as exc:
            self.url_status.value = (
                f'<span style="color:#b00020">✘ {html.escape(text.short_error(exc))}</span>'
            )
            return False
        self.url_status.value = '<span style="color:#1b7f3b">✔</span>'
        return True

    def _check_mapping_syntax(self) -> None:
        source = self.mapping_text.value
        message = ""
        if not source.strip():
            message = "the mapping is empty: write a function of one row r."
        else:
            message = mapping_syntax_error(source)
        self._show_mapping_error(message)

    def _show_mapping_error(self, message: str) -> None:
        self.mapping_status.value = (
            f'<div style="color:#b00020;font-family:monospace">✘ '
            f"{html.escape(text.scrub(message))}</div>"
            if message
            else ""
        )

    def _check_output_name(self) -> bool:
        name = self.output_name.value.strip()
        if name and (not name.isidentifier() or keyword.iskeyword(name)):
            self._say(f"result name {name!r} is not a valid Python variable name.", error=True)
            return False
        return True

    def _build(self) -> tuple[Sender | None, pd.DataFrame | None]:
        """The sender and the DataFrame from the current settings, or a message and Nones."""
        df = self._selected_df()
        if df is None:
            self._say(
                "choose a DataFrame (define one in the notebook, then press Refresh).",
                error=True,
            )
            return None, None
        choice = self.endpoint_choice
        if choice.is_http and not self._check_url():
            self._say("fix the URL first (see the note next to it).", error=True)
            return None, None
        namespace = self.namespace
        if not choice.is_http:  # the templates call the package's helpers
            namespace = {**namespace, choice.name: choice.module()}
        try:
            fn = compile_mapping(self.mapping_text.value, namespace)
        except MappingSourceError as exc:
            self._show_mapping_error(str(exc))
            self._say("the mapping does not compile (see the note under it).", error=True)
            return None, None
        self._show_mapping_error("")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if choice.is_http:
                    ep = endpoint(self.url_text.value.strip(), **self.options())
                else:
                    ep = choice.endpoint(**self.options())
            sender = ep(fn)
        except (FluxMagicError, UsageError) as exc:
            self._say(text.short_error(exc), error=True)
            return None, None
        # shown in the widget (e.g. verify=False) rather than as a warning in the log
        self._notes = [text.scrub(str(w.message)) for w in caught]
        return sender, df

    def _set_busy(self, busy: bool) -> None:
        for w in self._inputs:
            w.disabled = busy
        self.cancel_button.disabled = not busy

    def _start(self, sender: Sender, df: pd.DataFrame) -> None:
        if self.sending:
            self._say("a send is already running.", error=True)
            return
        self._cancel = threading.Event()
        total = len(df)
        self._counts = (0, total, 0, 0)
        self._forget_preview()
        self.result_table.value = ""
        self.code.value = ""
        self.output.outputs = ()
        self.progress.max = max(total, 1)
        self.progress.value = 0
        self.progress.bar_style = "info"
        self.progress_text.value = text.progress_text(0, total, 0, 0, 0.0)
        self.progress_box.layout.display = "flex"
        self._set_busy(True)
        self._say(" ".join([f"Sending {total:,} requests…", *self._notes]))
        self._started = time.monotonic()
        self._last_draw = 0.0
        # a click from code in a cell reports to that cell; a click in the page, to the
        # cell that shows the widget
        cell = _current_cell() or self._cell
        self._thread = threading.Thread(
            target=self._run,
            args=(sender, df, self._cancel, self.output_name.value.strip(), cell),
            name="flux-magic-widget-send",
            daemon=True,
        )
        self._thread.start()

    @_quiet
    def _on_progress(self, done: int, total: int, sent: int, failed: int) -> None:
        self._counts = (done, total, sent, failed)
        now = time.monotonic()
        if done < total and now - self._last_draw < _PROGRESS_INTERVAL:
            return
        self._last_draw = now
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.progress_text.value = text.progress_text(
            done, total, sent, failed, now - self._started
        )

    def _run(
        self,
        sender: Sender,
        df: pd.DataFrame,
        cancel: threading.Event,
        name: str,
        cell: tuple[Any, dict[str, Any]] | None,
    ) -> None:
        """The background send: call the sender, then present the result (never raises)."""
        result: pd.DataFrame | None = None
        message, error = "", False
        try:
            result = sender(df, progress=self._on_progress, cancel=cancel)
        except EndpointError as exc:
            result = exc.result
            message = (
                f"strict mode: stopped at row {exc.row!r}: {text.scrub(str(exc.reason))}; "
                f"{len(exc.result):,} of {len(df):,} rows were attempted."
            )
            error = True
        except SendInterrupted as exc:
            result = exc.result
            message, error = "the send was interrupted.", True
        except Exception as exc:
            message, error = text.short_error(exc), True
        try:
            if result is not None:
                elapsed = time.monotonic() - self._started
                self._present(result, name, len(df), elapsed, cancel, cell)
            if message:
                self._say(message, error=error)
        except Exception as exc:
            self._say(text.short_error(exc), error=True)
        finally:
            self._set_busy(False)
            if error:
                self.progress.bar_style = "danger"

    def _present(
        self,
        result: pd.DataFrame,
        name: str,
        total: int,
        elapsed: float,
        cancel: threading.Event,
        cell: tuple[Any, dict[str, Any]] | None,
    ) -> None:
        self.result = result
        sent = int((result["_sent"] == "true").sum())
        not_sent = len(result) - sent
        done, _, _, failed = self._counts  # the sender's last report: after the end
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.progress.bar_style = "success" if not_sent == 0 else "warning"
        self.progress_text.value = text.progress_text(done, total, sent, failed, elapsed)
        self.result_table.value = text.result_html(result)
        if name:
            self.namespace[name] = result
        if cancel.is_set():
            summary = f"Cancelled: {sent:,} of {total:,} sent; every other row has _sent false."
        else:
            summary = f"Sent {sent:,} of {total:,} requests in {elapsed:.1f} s."
            if not_sent:
                first = result.loc[result["_sent"] != "true"].iloc[0]
                error = str(first["_error"]) if "_error" in first.index else ""
                reason = error or f"status {first['_status']}"
                summary += f" {not_sent:,} not sent (first: {reason})."
        if "_attempts" in result.columns:
            retried = int((result["_attempts"] > 1).sum())
            if retried:
                summary += f" {retried:,} took more than one attempt (see _attempts)."
        resumed = summarize(result, elapsed).resume_line()
        if resumed:
            summary += " " + resumed
        if name:
            summary += f" Result assigned to {name}."
        if self._notes:
            summary += " " + " ".join(self._notes)
        self._say(summary, error=bool(not_sent) and not cancel.is_set())
        if cell is None:
            self.output.outputs = (_display_data(result),)
        else:
            _publish(cell, result)


def _label(name: str) -> str:
    return name.replace("_", " ")


def _int_control(name: str, value: int) -> widgets.IntText:
    """A whole-number option; out-of-range values are left for ``endpoint()`` to report."""
    return widgets.IntText(
        value=value,
        description=_label(name),
        tooltip=OPTION_DOCS[name],
        style=_ADVANCED_LABEL,
        layout=widgets.Layout(width="260px"),
    )


def _float_control(name: str, value: float, label: str = "") -> widgets.FloatText:
    return widgets.FloatText(
        value=value,
        description=label or _label(name),
        tooltip=OPTION_DOCS[name],
        style=_ADVANCED_LABEL,
        layout=widgets.Layout(width="260px"),
    )


def _bool_control(name: str, value: bool, label: str = "") -> widgets.Checkbox:
    return widgets.Checkbox(
        value=value,
        description=label or _label(name),
        tooltip=OPTION_DOCS[name],
        indent=False,
        layout=widgets.Layout(width="260px"),
    )


def _text_control(name: str, value: str, placeholder: str, label: str = "") -> widgets.Text:
    return widgets.Text(
        value=value,
        description=label or _label(name),
        placeholder=placeholder,
        tooltip=OPTION_DOCS[name],
        style=_ADVANCED_LABEL,
        layout=widgets.Layout(width="260px"),
    )


def _read_rate(value: str) -> float | None:
    """The rate field: empty (or "none") for no limit, else a number of requests per second."""
    value = value.strip()
    if not value or value.lower() == "none":
        return None
    try:
        return float(value)
    except ValueError:
        raise UsageError(
            f"rate must be a number of requests per second (empty for no limit), not {value!r}."
        ) from None


def _current_cell() -> tuple[Any, dict[str, Any]] | None:
    """The kernel and the request being executed now (the cell), if running in a kernel."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    kernel = getattr(shell, "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    if get_parent is None:
        return None
    parent = get_parent("shell")
    header = parent.get("header") if isinstance(parent, dict) else None
    if not isinstance(header, dict) or header.get("msg_type") != "execute_request":
        return None  # displayed from a button callback or a thread: no cell to write to
    return kernel, parent


def _publish(cell: tuple[Any, dict[str, Any]], df: pd.DataFrame) -> None:
    """Show ``df`` as an ordinary output of ``cell``, saved with the notebook.

    The frontend files an output under the request it answers, so a result sent from the
    background thread lands in that cell and survives when widget state is not saved.
    """
    kernel, parent = cell
    content = {"data": _display_data(df)["data"], "metadata": {}, "transient": {}}
    kernel.session.send(
        kernel.iopub_socket, "display_data", content, parent=parent, ident=b"display_data"
    )


def _display_data(df: pd.DataFrame) -> dict[str, Any]:
    """``df`` as an ordinary display_data output (what ``display(df)`` would show)."""
    bundle: dict[str, Any] = {"text/plain": repr(df)}
    html_repr = cast(Any, df)._repr_html_()
    if html_repr:
        bundle["text/html"] = html_repr
    return {"output_type": "display_data", "data": bundle, "metadata": {}}
