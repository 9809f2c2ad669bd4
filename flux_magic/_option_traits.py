"""One traitlets trait per sending option, generated from the option specs.

The ``%config FluxEndpointMagic.<option>`` defaults and the widget's model both use these
traits, so they have the names, defaults and help of ``Options`` / ``OPTION_DOCS``. Imported
by the front ends only (``import flux_magic`` does not load traitlets).
"""

from __future__ import annotations

from typing import Any, cast

from traitlets import Any as TraitAny
from traitlets import Bool, Enum, Float, Int, TraitType

from ._option_specs import OptionSpec, option_specs

__all__ = ["option_trait", "option_traits"]


def option_trait(spec: OptionSpec, *, config: bool = False) -> TraitType[Any, Any]:
    """The trait that holds ``spec``'s value (``config=True`` tags it for ``%config``)."""
    kw: dict[str, Any] = {"allow_none": spec.optional, "help": spec.doc}
    trait: TraitType[Any, Any]
    if spec.kind == "choice":
        trait = cast(Any, Enum)(spec.choices, default_value=str(spec.default), **kw)
    elif spec.kind in ("bool", "int", "float"):
        kind: Any = {"bool": Bool, "int": Int, "float": Float}[spec.kind]
        trait = kind(spec.default, **kw)
    else:  # a path, a list of hosts, a union: any value, validated by Options
        trait = TraitAny(spec.default, help=spec.doc)
    return trait.tag(config=True) if config else trait


def option_traits(*, config: bool = False) -> dict[str, TraitType[Any, Any]]:
    """A trait for every sending option, by name."""
    return {spec.name: option_trait(spec, config=config) for spec in option_specs()}
