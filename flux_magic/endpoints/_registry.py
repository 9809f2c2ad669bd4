"""The notification endpoints described as data: each package's config fields (types, defaults,
docs) and a mapping template with the fields the package needs, for front ends that offer a
choice of endpoint (the widget's "Endpoint" choice is generated from it)."""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass
from typing import Any

__all__ = ["MODULES", "REQUIRED", "EndpointSpec", "Field", "registry"]

#: The modules of ``flux_magic.endpoints`` that are endpoints, in the order a menu shows them.
MODULES = (
    "http",
    "slack",
    "pagerduty",
    "teams",
    "opsgenie",
    "telegram",
    "discord",
    "webexteams",
    "pushbullet",
    "sensu",
    "servicenow",
    "victorops",
    "alerta",
    "zenoss",
    "bigpanda",
)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a config field that has none (it must be given).
REQUIRED: Any = _Required()


@dataclass(frozen=True, slots=True)
class Field:
    """One config parameter of a package's ``endpoint(...)``."""

    name: str
    type: str
    default: Any
    doc: str
    secret: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """One notification endpoint: what to configure and what the mapping must return.

    Attributes
    ----------
    name : str
        The module name (``flux_magic.endpoints.<name>``), Flux's last path segment.
    flux_path : str
        The Flux import path (``contrib/sranka/teams``).
    doc : str
        One line about the package.
    config : tuple of Field
        The parameters of ``endpoint(...)``, in Flux's order.
    fields : tuple of str
        The fields the mapping function's record must have.
    optional : tuple of str
        Fields the record may have.
    template : str
        A Python mapping function with every field, to start from.
    flux_template : str
        The same as a Flux function literal.
    """

    name: str
    flux_path: str
    doc: str
    config: tuple[Field, ...]
    fields: tuple[str, ...]
    optional: tuple[str, ...]
    template: str
    flux_template: str

    def endpoint(self, **config: Any) -> Any:
        """The package's ``endpoint(**config)``."""
        module = importlib.import_module(f"flux_magic.endpoints.{self.name}")
        return module.endpoint(**config)


def _spec(name: str) -> EndpointSpec:
    module = importlib.import_module(f"flux_magic.endpoints.{name}")
    docs: dict[str, str] = getattr(module, "CONFIG_DOCS", {})
    secret: frozenset[str] = getattr(module, "SECRETS", frozenset())
    params = inspect.signature(module.endpoint).parameters.values()
    config = tuple(
        Field(
            name=p.name,
            type=str(p.annotation),
            default=REQUIRED if p.default is inspect.Parameter.empty else p.default,
            doc=docs.get(p.name, ""),
            secret=p.name in secret,
        )
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )
    return EndpointSpec(
        name=name,
        flux_path=module.PATH,
        doc=(module.__doc__ or "").strip().splitlines()[0],
        config=config,
        fields=tuple(module.FIELDS),
        optional=tuple(getattr(module, "OPTIONAL", ())),
        template=module.TEMPLATE,
        flux_template=module.FLUX_TEMPLATE,
    )


@functools.cache
def registry() -> dict[str, EndpointSpec]:
    """Every notification endpoint (and ``http``), by module name, in menu order.

    Examples
    --------
    >>> spec = registry()["slack"]
    >>> [(f.name, f.default) for f in spec.config]
    [('url', 'https://slack.com/api/chat.postMessage'), ('token', '')]
    >>> spec.fields
    ('channel', 'text', 'color')
    """
    return {name: _spec(name) for name in MODULES}
