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
import uuid
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

import ipywidgets as widgets
import pandas as pd

from . import _widget_text as text
from ._endpoint import Sender, endpoint
from ._errors import EndpointError, FluxMagicError, SendInterrupted, UsageError
from ._frames import DASK, frame_kind, frame_rows, is_frame, to_pandas
from ._mapping import (
    DEFAULT_MAPPING,
    MappingSourceError,
    compile_mapping,
    mapping_syntax_error,
)
from ._option_specs import option_flags, option_specs
from ._options import Options
from ._request import check_url
from ._secrets import mask_url, mask_urls
from ._summary import summarize
from ._widget_endpoints import EndpointChoice
from ._widget_model import EndpointModel, bind_option, option_control

__all__ = ["MAIN_OPTIONS", "EndpointWidget"]

_GIVEN = "\x00given"  # the picker's key for a DataFrame passed to the constructor
_LABEL = {"description_width": "110px"}
_STYLE = """<style>
.flux-magic-mapping textarea {
  font-family: var(--jp-code-font-family, monospace); font-size: 13px; line-height: 1.35;
}
.flux-magic-widget pre { white-space: pre-wrap; margin: 2px 0; }
.flux-magic-widget .widget-toggle-buttons { flex-wrap: nowrap; }
</style>"""
_CODE_STYLE = (
    "white-space:pre-wrap;word-break:break-all;background:#f6f8fa;border:1px solid #ddd;"
    "padding:6px;font-size:12px;user-select:text"
)


def _wrap() -> widgets.Layout:
    """A row whose items move to the next line, whole, when the page is narrow."""
    return widgets.Layout(flex_flow="row wrap", align_items="center")


_PROGRESS_INTERVAL = 0.1  # seconds between two progress redraws
#: The options shown above the collapsed "Advanced" section; every other one is inside it.
MAIN_OPTIONS = ("concurrency", "timeout", "sent_when", "errors")

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
    strict : bool
        Stop at the first failed row (``errors="raise"``), as ``--strict`` does.
    **options
        Every sending option of :func:`flux_magic.endpoint`, same names, defaults and values
        (``timeout=None`` too); see ``flux_magic.OPTION_DOCS``. Each has a control generated
        from ``flux_magic.Options``: ``MAIN_OPTIONS`` above the buttons, the rest in the
        collapsed "Advanced" section. Invalid values raise ``flux_magic.UsageError`` here;
        typed into the widget, they are reported in it when you press Preview, Send or
        Show code.
    output_name : str
        If set, the result is also assigned to this variable in ``namespace``.
    preview_rows : int
        How many requests Preview shows.
    confirm_above : int
        Send asks for confirmation when the DataFrame has more rows than this.

    Attributes
    ----------
    model : EndpointModel
        The widget's state (traitlets): URL, mapping, result name, preview rows and one
        trait per sending option; the controls are bound to it.
    option_controls : dict
        The control of each sending option by name (also ``ui.<option>``).
    result : pandas.DataFrame or None
        The last send's result: the input columns plus ``_status``, ``_sent``, ``_error``
        and ``_elapsed``.
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
        strict: bool = False,
        output_name: str = "",
        preview_rows: int = 10,
        confirm_above: int = 1000,
        **options: Any,
    ) -> None:
        if strict and "errors" not in options:
            options["errors"] = "raise"
        given, self._notes = _checked_options(options)
        self.namespace: dict[str, Any] = _user_namespace() if namespace is None else namespace
        self.confirm_above = confirm_above
        self.result: pd.DataFrame | None = None
        self.preview_frame: pd.DataFrame | None = None
        self.model = EndpointModel(
            url=url,
            mapping=DEFAULT_MAPPING if mapping is None else mapping,
            output_name=output_name,
            preview_rows=preview_rows,
            **{spec.name: getattr(given, spec.name) for spec in option_specs()},
        )
        self._given = df
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._last_draw = 0.0
        self._started = 0.0
        self._counts = (0, 0, 0, 0)  # the last (done, total, sent, failed) of the sender
        self._cell: tuple[Any, dict[str, Any]] | None = _current_cell()
        self._display_id = f"flux-magic-result-{uuid.uuid4().hex}"
        self._displayed = False
        self._make_inputs()
        self._make_option_controls(given)
        self._make_actions()
        self._make_outputs()
        super().__init__(self._layout())
        self.add_class("flux-magic-widget")
        self._wire()
        self._update_advanced_title()
        self.refresh()
        self._check_url()
        self._check_mapping_syntax()

    # ----------------------------------------------------------------- building

    def _make_inputs(self) -> None:
        """The DataFrame picker, URL, mapping, result name and preview size."""
        self.df_picker = widgets.Dropdown(
            description="DataFrame", style=_LABEL, layout=widgets.Layout(width="420px")
        )
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="List the DataFrames again"
        )
        #: http.endpoint or one of Flux's notification packages, with its config fields.
        self.endpoint_choice = EndpointChoice()
        self.url_text = widgets.Text(
            description="URL",
            placeholder="http://127.0.0.1:8080/hook",
            style=_LABEL,
            layout=widgets.Layout(width="620px", flex="0 0 auto"),
        )
        self.url_status = widgets.HTML(layout=widgets.Layout(flex="1 1 auto"))
        self.mapping_text = widgets.Textarea(
            description="Mapping",
            placeholder="lambda r: {'headers': {...}, 'data': b'...'}  or  (r) => ({...})",
            style=_LABEL,
            rows=7,
            continuous_update=False,
            layout=widgets.Layout(width="820px"),
        )
        self.mapping_text.add_class("flux-magic-mapping")
        self.mapping_status = widgets.HTML()
        self.output_name = widgets.Text(
            description="result name",
            placeholder="variable (optional)",
            style=_LABEL,
            layout=widgets.Layout(width="300px"),
        )
        self.preview_rows = widgets.BoundedIntText(
            min=1,
            max=1000,
            description="preview rows",
            style=_LABEL,
            layout=widgets.Layout(width="200px"),
        )
        for name, control in (
            ("url", self.url_text),
            ("mapping", self.mapping_text),
            ("output_name", self.output_name),
            ("preview_rows", self.preview_rows),
        ):
            widgets.link((self.model, name), (control, "value"))

    def _make_option_controls(self, given: Options) -> None:
        """One control per sending option, generated from the option specs, bound to the model."""
        #: Every option's control by name (``flux_magic.Options``).
        self.option_controls: dict[str, widgets.ValueWidget] = {}
        for spec in option_specs():
            control = option_control(spec, getattr(given, spec.name))
            control.add_class(f"flux-magic-option-{spec.name.replace('_', '-')}")
            bind_option(self.model, spec, control)
            self.option_controls[spec.name] = control
            setattr(self, spec.name, control)  # e.g. ui.retries.value = 2
        #: The controls of the "Advanced" section by option name.
        self.advanced_controls = {
            name: c for name, c in self.option_controls.items() if name not in MAIN_OPTIONS
        }
        rows = [
            widgets.HBox([_labelled(c) for c in list(self.advanced_controls.values())[i : i + 3]])
            for i in range(0, len(self.advanced_controls), 3)
        ]
        note = widgets.HTML(
            '<span style="color:#666">Hover over an option for what it does; the defaults '
            "are those of <code>flux_magic.endpoint</code>.</span>"
        )
        self.advanced = widgets.Accordion(
            [widgets.VBox([note, *rows])],
            titles=("Advanced",),
            selected_index=None,  # collapsed
            layout=widgets.Layout(width="820px"),
        )
        self.advanced.add_class("flux-magic-advanced")

    def _make_actions(self) -> None:
        """The buttons, the confirmation row and the "Show code" box under them."""
        self.preview_button = widgets.Button(
            description="Preview", icon="eye", tooltip="Show the requests; nothing is sent"
        )
        self.send_button = widgets.Button(
            description="Send",
            button_style="primary",
            icon="send",
            layout=widgets.Layout(width="auto", min_width="170px"),
        )
        self.send_one_button = widgets.Button(
            description="Send 1 row",
            icon="flask",
            tooltip="A test: send only the first row (Flux's limit(n: 1))",
        )
        self.resend_button = widgets.Button(
            description="Resend failed",
            icon="repeat",
            disabled=True,
            tooltip="Send again only the rows of the last result whose _sent is not true",
            layout=widgets.Layout(width="auto"),
        )
        self.cancel_button = widgets.Button(
            description="Cancel", button_style="warning", icon="stop", disabled=True
        )
        self.code_button = widgets.Button(
            description="Show code", icon="code", tooltip="The equivalent %%flux_endpoint cell"
        )
        self.code = widgets.HTML()
        self.confirm_text = widgets.HTML()
        self.confirm_button = widgets.Button(
            button_style="danger", layout=widgets.Layout(width="auto", flex="0 0 auto")
        )
        self.back_button = widgets.Button(description="Back")
        self.confirm_box = widgets.HBox(
            [self.confirm_text, self.confirm_button, self.back_button],
            layout=widgets.Layout(display="none", flex_flow="row wrap", align_items="center"),
        )

    def _make_outputs(self) -> None:
        """Progress, message, outcome, row selection, preview and result tables."""
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, bar_style="info", layout=widgets.Layout(width="420px")
        )
        self.progress_text = widgets.HTML()
        self.progress_box = widgets.HBox(
            [self.progress, self.progress_text], layout=widgets.Layout(display="none")
        )
        self.message = widgets.HTML()
        self.outcome = widgets.HTML()
        self.rows_choice = widgets.ToggleButtons(
            options=[(c, c) for c in text.ROW_CHOICES],
            description="rows",
            style={"description_width": "initial", "button_width": "110px"},
            layout=widgets.Layout(display="none", width="auto"),
        )
        self.preview_table = widgets.HTML()
        self.result_table = widgets.HTML()
        self.output = widgets.Output()
        for w, name in [
            (self.df_picker, "dataframe"),
            (self.url_text, "url"),
            (self.url_status, "url-status"),
            (self.mapping_status, "mapping-status"),
            (self.message, "message"),
            (self.outcome, "outcome"),
            (self.rows_choice, "rows-choice"),
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
            *(cast(widgets.DOMWidget, c) for c in self.option_controls.values()),
            self.output_name,
            self.preview_rows,
        ]

    def _layout(self) -> list[widgets.Widget]:
        """Top to bottom: inputs, options, buttons, code, then what the last action made."""
        main = [_labelled(self.option_controls[name]) for name in MAIN_OPTIONS]
        return [
            widgets.HTML(_STYLE + "<b>http.endpoint</b> — one POST per row"),
            widgets.HBox([self.df_picker, self.refresh_button]),
            self.endpoint_choice,
            self.url_row,
            self.mapping_text,
            self.mapping_status,
            widgets.HBox([*main[:2], self.output_name, self.preview_rows], layout=_wrap()),
            widgets.HBox(main[2:], layout=_wrap()),
            self.advanced,
            widgets.HBox(
                [
                    self.preview_button,
                    self.send_button,
                    self.send_one_button,
                    self.resend_button,
                    self.cancel_button,
                    self.code_button,
                ],
                layout=_wrap(),
            ),
            self.code,
            self.confirm_box,
            self.progress_box,
            self.message,
            self.outcome,
            self.rows_choice,
            self.preview_table,
            self.result_table,
            self.output,
        ]

    def _wire(self) -> None:
        self.refresh_button.on_click(self._on_refresh)
        self.preview_button.on_click(self._on_preview)
        self.send_button.on_click(self._on_send)
        self.send_one_button.on_click(self._on_send_one)
        self.resend_button.on_click(self._on_resend)
        self.cancel_button.on_click(self._on_cancel)
        self.code_button.on_click(self._on_code)
        self.confirm_button.on_click(self._on_confirm)
        self.back_button.on_click(self._on_back)
        self.rows_choice.observe(self._on_rows_choice, names="value")
        self.df_picker.observe(self._on_df_change, names="value")
        self.endpoint_choice.dropdown.observe(self._on_endpoint_change, names="value")
        self.model.observe(self._on_url_change, names="url")
        self.model.observe(self._on_mapping_change, names="mapping")
        self.model.observe(self._on_advanced_change, names=[*self.advanced_controls, "problems"])

    # ----------------------------------------------------------------- public methods

    def refresh(self) -> None:
        """List the DataFrames of the namespace again, keeping the current choice."""
        current = self.df_picker.value
        options: list[tuple[str, str]] = []
        if self._given is not None and text.find_name(self.namespace, self._given) is None:
            options.append((f"(passed in) — {text.rows_text(self._given)}", _GIVEN))
        options += [
            (f"{name} — {rows}", name) for name, rows in text.dataframe_names(self.namespace)
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
        return self.model.options()

    def advanced_values(self) -> dict[str, Any]:
        """The options of the "Advanced" section by name."""
        values = self.options()
        return {name: values[name] for name in self.advanced_controls}

    def code_text(self) -> str:
        """The ``%%flux_endpoint`` cell equivalent to the current settings.

        Raises ``flux_magic.UsageError`` when an option is invalid: such a cell would not run.
        For a notification package it is the Python code instead.
        """
        if not self.endpoint_choice.is_http:
            Options(**self.options())
            return self.endpoint_choice.code(
                self._df_name(), self.model.mapping, self._package_options()
            )
        return text.show_code(
            df_name=self._df_name(),
            url=self.model.url.strip(),
            mapping=self.model.mapping,
            options=self.options(),
            output_name=self.model.output_name.strip(),
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the widget, remembering the cell it is shown in (for the result output)."""
        self._cell = _current_cell() or self._cell
        return super()._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        url = mask_url(self.model.url.strip())
        return f"EndpointWidget(df={self._df_name()!r}, url={url!r})"

    # ----------------------------------------------------------------- callbacks

    @_quiet
    def _on_refresh(self, _button: object = None) -> None:
        self.refresh()

    @_quiet
    def _on_df_change(self, _change: object = None) -> None:
        self._update_send_label()
        self._forget_preview()
        self._update_buttons()

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
        self.model.mapping = DEFAULT_MAPPING if choice.is_http else choice.spec.template
        self.model.set_trait("sent_when", "200" if choice.is_http else "2xx")
        self._forget_preview()
        self._update_buttons()

    def _package_options(self) -> dict[str, Any]:
        """The options that differ from a notification endpoint's defaults (for Show code)."""
        defaults = {**{s.name: s.default for s in option_specs()}, "sent_when": "2xx"}
        return {k: v for k, v in self.options().items() if defaults.get(k) != v}

    @_quiet
    def _on_advanced_change(self, _change: object = None) -> None:
        self._update_advanced_title()

    @_quiet
    def _on_rows_choice(self, _change: object = None) -> None:
        if self.result is not None:
            self.result_table.value = text.result_html(self.result, self.rows_choice.value)

    def _update_advanced_title(self) -> None:
        """Say on the collapsed section how many of its options differ from the defaults."""
        try:
            changed = option_flags(self.advanced_values())
        except UsageError:
            self.advanced.titles = ("Advanced (a value cannot be read)",)
            return
        count = sum(flag.startswith("--") for flag in changed)
        self.advanced.titles = (f"Advanced ({count} changed)" if count else "Advanced",)

    def _forget_preview(self) -> None:
        """A preview of other settings would mislead: drop it."""
        self.preview_table.value = ""
        self.preview_frame = None

    def _clear(self) -> None:
        """A new action makes what the last one showed obsolete: message, confirmation,
        preview, progress, outcome and result tables go (the cell's saved result stays)."""
        self._say("")
        self._hide_confirm()
        self._forget_preview()
        self.progress_box.layout.display = "none"
        self.outcome.value = ""
        self.result_table.value = ""
        self.rows_choice.layout.display = "none"

    @_quiet
    def _on_preview(self, _button: object = None) -> None:
        self._clear()
        sender, df = self._build()
        if sender is None or df is None:
            return
        try:
            preview = sender.preview(df, n=self.model.preview_rows)
        except FluxMagicError as exc:
            self._say(text.short_error(exc), error=True)
            return
        self.preview_frame = preview
        self.preview_table.value = text.preview_html(preview, frame_rows(df))
        if self._notes:
            self._say(" ".join(self._notes))

    @_quiet
    def _on_send(self, _button: object = None) -> None:
        self._clear()
        sender, df = self._build()
        if sender is None or df is None or not self._check_output_name():
            return
        rows = frame_rows(df)  # None for a Dask DataFrame: every row, not counted here
        if rows is None or rows > self.confirm_above:
            self.confirm_text.value = (
                f"Really send <b>{'every row' if rows is None else f'{rows:,}'}</b> requests to "
                f"<code>{html.escape(sender.hooks.mask(sender.url))}</code>? "
            )
            self.confirm_button.description = f"Yes, {text.send_label(rows).lower()}"
            self.confirm_box.layout.display = "flex"
            return
        self._start(sender, df)

    @_quiet
    def _on_send_one(self, _button: object = None) -> None:
        self._clear()
        sender, df = self._build()
        if sender is None or df is None or not self._check_output_name():
            return
        self._start(sender, df, limit=1)

    @_quiet
    def _on_resend(self, _button: object = None) -> None:
        previous = self.result
        self._clear()
        if previous is None:
            self._say("there is no result to resend yet: send first.", error=True)
            return
        sender, df = self._build()
        if sender is None or df is None or not self._check_output_name():
            return
        self._start(sender, df, resend=previous)

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
        self.code.value = ""
        code = self.code_text()
        note = ""
        if mask_url(self.model.url.strip()) != self.model.url.strip():
            note = " The URL's secrets are masked in this code: put them back before running."
        self.code.value = (
            "<div>The same, as a cell (<code>%load_ext flux_magic</code> first)."
            f"{html.escape(note)}</div>"
            f'<pre class="flux-magic-code-text" style="{_CODE_STYLE}">{html.escape(code)}</pre>'
        )

    # ----------------------------------------------------------------- helpers

    def _say(self, message: str, *, error: bool = False) -> None:
        if not message:
            self.message.value = ""
            return
        color = "#b00020" if error else "inherit"
        prefix = "⚠ " if error else ""
        self.message.value = (
            f'<div style="color:{color}">{prefix}{html.escape(mask_urls(message))}</div>'
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
        return value if is_frame(value) else None

    def _df_name(self) -> str:
        key = self.df_picker.value
        if key is None or key == _GIVEN:
            found = text.find_name(self.namespace, self._given) if self._given is not None else None
            return found or "df"
        return str(key)

    def _update_send_label(self) -> None:
        df = self._selected_df()
        self.send_button.description = text.send_label(frame_rows(df)) if df is not None else "Send"

    def _update_buttons(self) -> None:
        """Send and Preview need a URL and a DataFrame; Resend, a result with failed rows."""
        busy = self.sending
        url_ok = not self.endpoint_choice.is_http or self._url_ok
        ready = url_ok and self._selected_df() is not None
        for button in (self.preview_button, self.send_button, self.send_one_button):
            button.disabled = busy or not ready
        failed = self.result is not None and bool((self.result["_sent"] != "true").any())
        self.resend_button.disabled = busy or not ready or not failed
        self.code_button.disabled = busy

    _url_ok = False

    def _check_url(self) -> bool:
        url = self.model.url.strip()
        self._url_ok = False
        if not url:
            self.url_status.value = '<span style="color:#666">type the URL to POST to</span>'
        else:
            try:
                check_url(url)
            except FluxMagicError as exc:
                self.url_status.value = (
                    f'<span style="color:#b00020">✘ {html.escape(text.short_error(exc))}</span>'
                )
            else:
                self._url_ok = True
                self.url_status.value = '<span style="color:#1b7f3b">✔</span>'
        self._update_buttons()
        return self._url_ok

    def _check_mapping_syntax(self) -> None:
        source = self.model.mapping
        message = ""
        if not source.strip():
            message = "the mapping is empty: write a function of one row r."
        else:
            message = mapping_syntax_error(source)
        self._show_mapping_error(message)

    def _show_mapping_error(self, message: str) -> None:
        self.mapping_status.value = (
            f'<div style="color:#b00020;font-family:monospace">✘ '
            f"{html.escape(mask_urls(message))}</div>"
            if message
            else ""
        )

    def _check_output_name(self) -> bool:
        name = self.model.output_name.strip()
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
            fn = compile_mapping(self.model.mapping, namespace)
        except MappingSourceError as exc:
            self._show_mapping_error(str(exc))
            self._say("the mapping does not compile (see the note under it).", error=True)
            return None, None
        self._show_mapping_error("")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if choice.is_http:
                    ep = endpoint(self.model.url.strip(), **self.options())
                else:
                    ep = choice.endpoint(**self.options())
            sender = ep(fn)
            if frame_kind(df) != DASK:  # a Polars frame: shown and sent as its pandas form
                df = to_pandas(df)[0]
        except (FluxMagicError, UsageError) as exc:
            self._say(text.short_error(exc), error=True)
            return None, None
        # shown in the widget (e.g. verify=False) rather than as a warning in the log
        self._notes = [mask_urls(str(w.message)) for w in caught]
        return sender, df

    def _set_busy(self, busy: bool) -> None:
        for w in self._inputs:
            w.disabled = busy
        self.cancel_button.disabled = not busy
        if busy:
            for button in (
                self.preview_button,
                self.send_button,
                self.send_one_button,
                self.resend_button,
                self.code_button,
            ):
                button.disabled = True
        else:
            self._update_buttons()

    def _start(
        self,
        sender: Sender,
        df: pd.DataFrame,
        *,
        limit: int | None = None,
        resend: pd.DataFrame | None = None,
    ) -> None:
        if self.sending:
            self._say("a send is already running.", error=True)
            return
        self._cancel = threading.Event()
        if resend is not None:
            total = int((resend["_sent"] != "true").sum())
            what = f"Sending the {total:,} failed rows again…"
        else:
            rows = frame_rows(df)  # None for a Dask DataFrame: its send reports the total
            if rows is None:
                total, what = 0, "Sending every row…"
            else:
                total = rows if limit is None else min(limit, rows)
                what = f"Sending {text.send_label(total)[5:]}…"
        self._counts = (0, total, 0, 0)
        self.code.value = ""
        self.progress.max = max(total, 1)
        self.progress.value = 0
        self.progress.bar_style = "info"
        self.progress_text.value = text.progress_text(0, total, 0, 0, 0.0)
        self.progress_box.layout.display = "flex"
        self._set_busy(True)
        self._say(" ".join([what, *self._notes]))
        self._started = time.monotonic()
        self._last_draw = 0.0
        # a click from code in a cell reports to that cell; a click in the page, to the
        # cell that shows the widget
        cell = _current_cell() or self._cell

        def call(progress: Any, cancel: threading.Event) -> Any:
            if resend is not None:
                return sender.resend_failed(resend, progress=progress, cancel=cancel)
            return sender.send(df, progress=progress, cancel=cancel, limit=limit)

        self._thread = threading.Thread(
            target=self._run,
            args=(call, total, self._cancel, self.model.output_name.strip(), cell),
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
        call: Callable[[Any, threading.Event], pd.DataFrame],
        total: int,
        cancel: threading.Event,
        name: str,
        cell: tuple[Any, dict[str, Any]] | None,
    ) -> None:
        """The background send: call the sender, then present the result (never raises)."""
        result: pd.DataFrame | None = None
        message, error = "", False
        try:
            result = call(self._on_progress, cancel)
        except EndpointError as exc:
            result = exc.result
            message = (
                f"strict mode: stopped at row {exc.row!r}: {mask_urls(str(exc.reason))}; "
                f"{len(exc.result):,} of {total:,} rows were attempted."
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
                self._present(result, name, total or len(result), elapsed, cancel, cell)
            if message:
                self._say(message, error=error)
        except Exception as exc:
            self._say(text.short_error(exc), error=True)
        finally:
            self._thread = None
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
        """The outcome by class first, then the rows (failed or unsent ones a click away),
        the engine's summary line, and the result in the cell's one output."""
        self.result = result
        summary = summarize(result, elapsed)
        done, _, _, failed = self._counts  # the sender's last report: after the end
        self.progress.max = max(total, 1)
        self.progress.value = done
        self.progress.bar_style = "success" if summary.not_sent == 0 else "warning"
        self.progress_text.value = text.progress_text(done, total, summary.sent, failed, elapsed)
        self.outcome.value = text.outcome_html(summary)
        choice = "all"
        if summary.not_sent:
            failed_rows = len(text.rows_of(result, "failed"))
            choice = "failed" if failed_rows else "not sent"
        self.rows_choice.options = [
            (f"{c} ({len(text.rows_of(result, c)):,})", c) for c in text.ROW_CHOICES
        ]
        self.rows_choice.value = choice
        self.rows_choice.layout.display = "flex"
        self.result_table.value = text.result_html(result, choice)
        if name:
            self.namespace[name] = result
        url = self.model.url.strip() if self.endpoint_choice.is_http else ""
        line = summary.line(url=url, sent_when_hint='sent when "2xx"')
        if cancel.is_set():
            line = "Cancelled: " + line
        if "_attempts" in result.columns:
            retried = int((result["_attempts"] > 1).sum())
            if retried:
                line += f" {retried:,} took more than one attempt (see _attempts)."
        if name:
            line += f" The result is assigned to {name}."
        else:
            line += (
                " The result is in the output below this widget and in ui.result; give a "
                '"result name" to assign it to a variable.'
            )
        if self._notes:
            line += " " + " ".join(self._notes)
        self._say(line, error=bool(summary.not_sent) and not cancel.is_set())
        self._show_result(result, summary, cell)

    def _show_result(
        self, result: pd.DataFrame, summary: Any, cell: tuple[Any, dict[str, Any]] | None
    ) -> None:
        """One result output per widget, replaced in place on every send (a display id)."""
        bundle = _display_data(result, text.outcome_html(summary))
        if cell is None:
            self.output.outputs = (bundle,)
            return
        _publish(cell, bundle, self._display_id, update=self._displayed)
        self._displayed = True


def _labelled(control: widgets.ValueWidget) -> widgets.Widget:
    """A choice control with its label beside its buttons (not above them)."""
    if not isinstance(control, widgets.ToggleButtons):
        return control
    label = widgets.Label(control.description, layout=widgets.Layout(margin="0 6px 0 12px"))
    control.description = ""
    return widgets.HBox([label, control], layout=widgets.Layout(align_items="center"))


def _checked_options(options: dict[str, Any]) -> tuple[Options, list[str]]:
    """The options as ``endpoint()`` takes them (a clear UsageError otherwise), and the
    warnings they give (shown in the widget rather than the log)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        given = Options.from_kwargs(**options)
    return given, [mask_urls(str(w.message)) for w in caught]


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


def _publish(
    cell: tuple[Any, dict[str, Any]], bundle: dict[str, Any], display_id: str, *, update: bool
) -> None:
    """Show ``bundle`` as an output of ``cell``, saved with the notebook; with ``update``,
    replace the output shown before under ``display_id`` instead of adding one.

    The frontend files an output under the request it answers, so a result sent from the
    background thread lands in that cell and survives when widget state is not saved.
    """
    kernel, parent = cell
    content = {
        "data": bundle["data"],
        "metadata": {},
        "transient": {"display_id": display_id},
    }
    kind = "update_display_data" if update else "display_data"
    kernel.session.send(kernel.iopub_socket, kind, content, parent=parent, ident=kind.encode())


def _display_data(df: pd.DataFrame, heading: str = "") -> dict[str, Any]:
    """``df`` as an ordinary display_data output, under an HTML ``heading``."""
    bundle: dict[str, Any] = {"text/plain": repr(df)}
    html_repr = cast(Any, df)._repr_html_()
    if html_repr:
        bundle["text/html"] = heading + html_repr
    return {"output_type": "display_data", "data": bundle, "metadata": {}}
