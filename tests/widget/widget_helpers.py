"""Helpers shared by the widget tests: build a widget, send and wait, read what it shows."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from flux_magic.widget import EndpointWidget

PY_MAPPING = """lambda r: {
    "headers": {"Content-Type": "text/plain", "X-Host": r.host},
    "data": f"{r.host}={r._value}".encode(),
}"""


def make(namespace: dict[str, Any], url: str, **kwargs: Any) -> EndpointWidget:
    w = EndpointWidget(
        url=url, namespace=namespace, mapping=kwargs.pop("mapping", PY_MAPPING), **kwargs
    )
    w.df_picker.value = "alerts"
    return w


def send(w: EndpointWidget, timeout: float = 20.0) -> None:
    w.send_button.click()
    assert w.wait(timeout), "the send did not finish"


def all_text(w: widgets.Widget) -> str:
    """Every string a user can see in the widget tree (values, labels, HTML, tooltips)."""
    parts: list[str] = []
    stack = [w]
    while stack:
        node = stack.pop()
        for name in ("value", "description", "placeholder", "tooltip"):
            v = getattr(node, name, None)
            if isinstance(v, str):
                parts.append(v)
        parts += [str(t) for t in getattr(node, "titles", ())]
        if isinstance(node, widgets.Dropdown):
            parts += [str(label) for label, _ in node.options]
        if isinstance(node, widgets.Output):
            parts += [str(o) for o in node.outputs]
        stack += list(getattr(node, "children", ()))
    return "\n".join(parts)
