"""The widget's "Endpoint" choice: ``http.endpoint`` or one of Flux's notification packages,
with that package's config fields, generated from ``flux_magic.endpoints.registry()``.

Holds no HTTP logic: it reads the fields and calls the package's ``endpoint(...)``.
"""

from __future__ import annotations

import importlib
from typing import Any

import ipywidgets as widgets

from ._errors import UsageError
from .endpoints import EndpointSpec, Field, registry

__all__ = ["EndpointChoice"]

_LABEL = {"description_width": "110px"}


def _control(field: Field) -> widgets.ValueWidget:
    tip = field.doc + (" (required)" if field.required else "")
    default = None if field.required else field.default
    layout = widgets.Layout(width="620px")
    control: widgets.ValueWidget
    if field.type == "bool":
        control = widgets.Checkbox(value=bool(default), description=field.name, indent=False)
    elif field.type == "int":
        control = widgets.IntText(value=int(default or 0), description=field.name, style=_LABEL)
    else:
        value = ", ".join(default) if isinstance(default, list | tuple) else (default or "")
        kind = widgets.Password if field.secret else widgets.Text
        placeholder = "required" if field.required else "(empty)"
        control = kind(
            value=str(value),
            description=field.name,
            placeholder=placeholder,
            style=_LABEL,
            layout=layout,
        )
    control.tooltip = tip
    return control


class EndpointChoice(widgets.VBox):
    """A dropdown of the endpoints and, under it, the chosen package's config fields.

    Examples
    --------
    >>> choice = EndpointChoice()
    >>> choice.dropdown.value = "slack"
    >>> sorted(choice.controls)
    ['token', 'url']
    """

    def __init__(self) -> None:
        self.specs = registry()
        self.dropdown = widgets.Dropdown(
            options=[(_menu_label(spec), name) for name, spec in self.specs.items()],
            value="http",
            description="Endpoint",
            style=_LABEL,
            layout=widgets.Layout(width="420px"),
        )
        self.dropdown.add_class("flux-magic-endpoint")
        self.fields = widgets.VBox()
        self.controls: dict[str, widgets.ValueWidget] = {}
        self.dropdown.observe(self._on_change, names="value")
        super().__init__([self.dropdown, self.fields])

    @property
    def name(self) -> str:
        return str(self.dropdown.value)

    @property
    def spec(self) -> EndpointSpec:
        return self.specs[self.name]

    @property
    def is_http(self) -> bool:
        """``http.endpoint``: the widget's own URL field is its configuration."""
        return self.name == "http"

    def module(self) -> Any:
        return importlib.import_module(f"flux_magic.endpoints.{self.name}")

    def config(self) -> dict[str, Any]:
        """The package's ``endpoint`` keyword arguments, read from the fields."""
        values: dict[str, Any] = {}
        for field in self.spec.config:
            control = self.controls.get(field.name)
            if control is None:
                continue
            value = control.value
            if field.type == "Sequence[str]":
                value = [part.strip() for part in str(value).split(",") if part.strip()]
            elif isinstance(value, str):
                value = value.strip()
                if field.required and not value:
                    raise UsageError(f"{self.name}: fill in {field.name} ({field.doc})")
            values[field.name] = value
        return values

    def endpoint(self, **options: Any) -> Any:
        """The chosen package's ``endpoint(**config, **options)``."""
        return self.spec.endpoint(**self.config(), **options)

    def code(self, df_name: str, mapping: str, options: dict[str, Any]) -> str:
        """Python code doing the same (secret fields left for the user to fill in)."""
        secret = {f.name for f in self.spec.config if f.secret}
        defaults = {f.name: f.default for f in self.spec.config}
        lines = [
            f"from flux_magic.endpoints import {self.name}",
            "",
            f"send = {self.name}.endpoint(",
        ]
        for key, value in self.config().items():
            default = defaults[key]
            if value == default or (isinstance(default, tuple) and list(default) == value):
                continue
            if key in secret and value:
                lines.append(f'    {key}="***",  # the secret: put it back here')
            else:
                lines.append(f"    {key}={value!r},")
        lines += [f"    {k}={v!r}," for k, v in options.items()]
        lines.append(")(")
        lines += ["    " + line for line in mapping.strip().splitlines()]
        lines += [")", f"result = send({df_name})"]
        return "\n".join(lines)

    def _on_change(self, _change: object = None) -> None:
        self.controls = {} if self.is_http else {f.name: _control(f) for f in self.spec.config}
        self.fields.children = tuple(self.controls.values())


def _menu_label(spec: EndpointSpec) -> str:
    return "http.endpoint" if spec.name == "http" else f"{spec.name} ({spec.flux_path})"
