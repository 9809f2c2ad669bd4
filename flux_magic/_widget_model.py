"""The widget's state as a traitlets model, and its option controls generated from the specs.

``EndpointModel`` has one trait per sending option (``_option_traits``) plus the URL, the
mapping source, the result name and the preview size. The controls bind to it: a control
edit sets the model, a model change shows in the control. A text control that cannot be
read (``rate`` "fast") leaves the model as it was and records a problem, reported when the
user presses Preview, Send or Show code.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
from traitlets import Dict, HasTraits, Int, TraitError, Unicode

from ._errors import UsageError
from ._mapping import DEFAULT_MAPPING
from ._option_specs import OptionSpec, option_specs
from ._option_traits import option_traits

__all__ = ["EndpointModel", "bind_option", "option_control"]

_LABEL = {"description_width": "140px"}
_PLACEHOLDER = {"float": "none", "int": "none"}


class _Model(HasTraits):
    """What the widget holds besides the DataFrame; the option traits are added below."""

    url = Unicode("")
    mapping = Unicode(DEFAULT_MAPPING)
    output_name = Unicode("")
    preview_rows = Int(10)
    #: Option name to the message of a control whose text cannot be read.
    problems = Dict()

    def options(self) -> dict[str, Any]:
        """The sending options, as keyword arguments of ``flux_magic.endpoint``.

        Raises ``flux_magic.UsageError`` for a control whose text cannot be read.
        """
        if self.problems:
            raise UsageError(next(iter(self.problems.values())))
        return {spec.name: getattr(self, spec.name) for spec in option_specs()}


#: The widget's model: ``_Model`` plus one trait per sending option, same names and defaults.
EndpointModel: type[_Model] = type("EndpointModel", (_Model,), option_traits())


def option_control(spec: OptionSpec, value: Any) -> widgets.ValueWidget:
    """The control of one option, chosen by its kind, with OPTION_DOCS as the tooltip."""
    common: dict[str, Any] = dict(description=spec.label, tooltip=spec.doc)
    if spec.kind == "bool":
        return widgets.Checkbox(
            value=bool(value), indent=False, layout=widgets.Layout(width="260px"), **common
        )
    if spec.kind == "choice":
        return widgets.ToggleButtons(
            options=list(spec.choices),
            value=str(value),
            style={"description_width": "initial", "button_width": "80px"},
            layout=widgets.Layout(width="auto", flex="0 0 auto"),
            **common,
        )
    layout = widgets.Layout(width="260px")
    if spec.kind == "int" and not spec.optional:
        return widgets.IntText(value=value, style=_LABEL, layout=layout, **common)
    if spec.kind == "float" and not spec.optional:
        return widgets.FloatText(value=value, style=_LABEL, layout=layout, **common)
    placeholder = _PLACEHOLDER.get(spec.kind, spec.format(spec.default) or "none")
    if spec.kind == "text":
        layout = widgets.Layout(width="520px")
    return widgets.Text(
        value=spec.format(value),
        placeholder=placeholder,
        style=_LABEL,
        layout=layout,
        **common,
    )


def bind_option(model: _Model, spec: OptionSpec, control: widgets.ValueWidget) -> None:
    """Keep ``control`` and the model's trait ``spec.name`` in step, both ways."""
    name = spec.name
    as_text = isinstance(control, widgets.Text)

    def to_model(_change: object = None) -> None:
        problems = dict(model.problems)
        problems.pop(name, None)
        try:
            value = spec.parse(control.value) if as_text else control.value
            setattr(model, name, value)
        except (UsageError, TraitError) as exc:
            problems[name] = str(exc) if isinstance(exc, UsageError) else f"{name}: {exc}"
        model.problems = problems

    def to_control(change: dict[str, Any]) -> None:
        new = change["new"]
        if not as_text:
            control.value = new
            return
        try:
            if spec.parse(control.value) == new:
                return  # the text already says this (e.g. "1.50" for 1.5)
        except UsageError:
            pass
        control.value = spec.format(new)

    control.observe(to_model, names="value")
    model.observe(to_control, names=name)
