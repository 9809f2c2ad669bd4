"""What each sending option looks like to a front end, derived from ``Options`` alone.

The magic's flags, the ``%config`` traits, the widget's controls and the "Show code" flags
are all generated from these specs, so adding an option to ``Options`` (and its line to
``OPTION_DOCS``) is the only edit a new option needs. Nothing here imports IPython,
traitlets or ipywidgets.

Each option gets one *kind* from its type hint:

* ``choice``: a ``Literal`` (``sent_when``, ``errors``);
* ``bool``: exactly ``bool``;
* ``int`` / ``float``: a number, ``optional`` when ``None`` is allowed too;
* ``text``: anything else (a path, a list of hosts, ``bool | str | SSLContext``...), typed
  as text and read by :meth:`OptionSpec.parse`; ``Options`` validates the value.

Examples
--------
>>> spec = option_spec("rate")
>>> spec.kind, spec.optional, spec.flag
('float', True, '--rate')
>>> spec.parse("none") is None
True
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import shlex
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal

from ._errors import UsageError
from ._options import OPTION_DOCS, Options

__all__ = ["OptionSpec", "format_number", "option_flags", "option_spec", "option_specs", "spec_of"]

Kind = Literal["choice", "bool", "int", "float", "text"]
_NONE_WORDS = ("", "none", "off", "inf")
_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


def format_number(value: float) -> str:
    """``value`` as the shortest text that reads back as the same number."""
    if isinstance(value, int) or not math.isfinite(value):
        return str(value)
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One sending option as the front ends see it."""

    name: str
    kind: Kind
    default: Any
    doc: str
    optional: bool = False
    choices: tuple[str, ...] = ()
    #: For ``text`` options whose type also allows ``True``/``False`` (e.g. ``verify``).
    takes_bool: bool = False

    @property
    def flag(self) -> str:
        """The magic's flag: ``--max-redirects``."""
        return "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """The widget's label: ``max redirects``."""
        return self.name.replace("_", " ")

    def parse(self, text: str) -> Any:
        """The value a flag or text control holds, as ``Options`` takes it.

        Raises ``UsageError`` naming the option when the text cannot be read.
        """
        raw = text.strip()
        word = raw.lower()
        if self.optional and word in _NONE_WORDS:
            return None
        if self.kind == "choice":
            if raw not in self.choices:
                raise UsageError(
                    f"{self.name} must be one of {', '.join(self.choices)}, not {raw!r}."
                )
            return raw
        if self.kind == "bool" or (self.takes_bool and word in _TRUE_WORDS + _FALSE_WORDS):
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
            raise UsageError(f"{self.name} must be true or false, not {raw!r}.")
        if self.kind in ("int", "float"):
            try:
                return int(raw) if self.kind == "int" else float(raw)
            except ValueError:
                what = "a whole number" if self.kind == "int" else "a number"
                empty = " (empty for none)" if self.optional else ""
                raise UsageError(f"{self.name} must be {what}{empty}, not {raw!r}.") from None
        if not raw:
            return self.default
        return raw

    def format(self, value: Any) -> str:
        """``value`` as text for a text control or a flag (the inverse of :meth:`parse`)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float):
            return format_number(value)
        if isinstance(value, tuple | list | frozenset | set):
            return ",".join(str(v) for v in value)
        if isinstance(value, str | os.PathLike):
            return os.fspath(value)
        return repr(value)

    def flag_words(self, value: Any) -> list[str]:
        """The magic's flag (and value) that set this option to ``value``."""
        if self.name == "errors" and value == "raise":
            return ["--strict"]
        if isinstance(value, bool) and (self.kind == "bool" or self.takes_bool):
            return [self.flag if value else "--no-" + self.flag[2:]]
        if value is None:
            return [self.flag, "none"]
        return [self.flag, shlex.quote(self.format(value))]

    def arguments(self, default: Any = None) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        """``argparse`` ``add_argument`` calls (args, kwargs) for this option's flag(s)."""
        doc = self.doc.replace("%", "%%")
        if self.kind == "choice":
            return [((self.flag,), dict(choices=self.choices, default=default, help=doc))]
        if self.kind == "bool":
            action = argparse.BooleanOptionalAction
            return [((self.flag,), dict(action=action, default=default, help=doc))]
        dest = dict(dest=self.name, default=default)
        metavar = "N" if self.kind == "int" else "S" if doc.startswith("Seconds") else "VALUE"
        if self.kind in ("int", "float") and not self.optional:
            kind: Any = int if self.kind == "int" else float
            return [((self.flag,), dict(type=kind, metavar=metavar, help=doc, **dest))]
        read = _reader(self)
        if not self.takes_bool:
            return [((self.flag,), dict(type=read, metavar=metavar, help=doc, **dest))]
        return [  # --verify, --verify VALUE, --no-verify
            (
                (self.flag,),
                dict(type=read, nargs="?", const=True, metavar=metavar, help=doc, **dest),
            ),
            (
                ("--no-" + self.flag[2:],),
                dict(action="store_false", help=f"{self.flag} false", **dest),
            ),
        ]


def _reader(spec: OptionSpec) -> Any:
    """An argparse ``type`` that reads the text with ``spec.parse`` (argparse names it)."""

    def read(text: str) -> Any:
        try:
            return spec.parse(text)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = spec.kind
    return read


def _optional_of(hint: Any) -> tuple[Any, bool]:
    """``(T, True)`` for ``T | None``, else ``(hint, False)``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = tuple(a for a in typing.get_args(hint) if a is not type(None))
        optional = len(args) < len(typing.get_args(hint))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[args], optional  # noqa: UP007 (a runtime union of the rest)
    return hint, False


def _members(hint: Any) -> tuple[Any, ...]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)


def spec_of(name: str, hint: Any, default: Any) -> OptionSpec:
    """The spec of an option named ``name`` with type hint ``hint`` and ``default``."""
    doc = OPTION_DOCS.get(name, "")
    base, optional = _optional_of(hint)
    if typing.get_origin(base) is typing.Literal:
        choices = tuple(str(v) for v in typing.get_args(base))
        return OptionSpec(name, "choice", default, doc, optional, choices)
    if base is bool:
        return OptionSpec(name, "bool", default, doc, optional)
    if base is int:
        return OptionSpec(name, "int", default, doc, optional)
    if base is float:
        return OptionSpec(name, "float", default, doc, optional)
    takes_bool = bool in _members(base)
    return OptionSpec(name, "text", default, doc, optional, takes_bool=takes_bool)


@functools.cache
def option_specs() -> tuple[OptionSpec, ...]:
    """Every sending option, in the order of ``Options``."""
    hints = typing.get_type_hints(Options)
    specs = []
    for f in fields(Options):
        default = f.default if f.default is not MISSING else None
        if f.default_factory is not MISSING:
            default = f.default_factory()
        specs.append(spec_of(f.name, hints[f.name], default))
    return tuple(specs)


def option_spec(name: str) -> OptionSpec:
    """The spec of one option by name."""
    for spec in option_specs():
        if spec.name == name:
            return spec
    raise KeyError(name)


def option_flags(options: Mapping[str, Any]) -> list[str]:
    """The ``%%flux_endpoint`` flags for every option of ``options`` that is not the default.

    Names are those of ``Options``; ``errors="raise"`` is ``--strict``; unknown names are
    ignored. Values are compared after ``Options`` has normalised them (e.g. hosts).

    Examples
    --------
    >>> option_flags({"retries": 2, "verify": False, "rate": None})
    ['--no-verify', '--retries', '2']
    """
    defaults = Options()
    known = {k: v for k, v in options.items() if k in {s.name for s in option_specs()}}
    normalised = Options(**known) if known else defaults
    words: list[str] = []
    for spec in option_specs():
        if spec.name not in known:
            continue
        value = getattr(normalised, spec.name)
        default = getattr(defaults, spec.name)
        if value == default and isinstance(value, bool) == isinstance(default, bool):
            continue
        words += spec.flag_words(value)
    return words
