"""Flux's ``dict`` package: dictionaries (``[K: V]``) built and read by functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import to_string
from flux_magic._flux._values import type_name

__all__ = ["PATH", "FluxDict", "members"]

PATH = "dict"

_KEY_TYPES = ("string", "int", "uint", "float", "bool", "time", "duration", "bytes")


class FluxDict:
    """A Flux dictionary: keys of one comparable type, values of one type; never mutated."""

    flux_type = "dict"

    def __init__(self, items: dict[Any, Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FluxDict) and self.items == other.items

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if not self.items:
            return "[:]"

        def text(value: Any) -> str:
            if isinstance(value, str):
                return f'"{value}"'
            try:
                return to_string(value)
            except FluxRuntimeError:
                return repr(value)

        return "[" + ", ".join(f"{text(k)}: {text(v)}" for k, v in self.items.items()) + "]"


def _dict(value: Any, fn: str) -> FluxDict:
    if not isinstance(value, FluxDict):
        raise FluxRuntimeError(
            f"dict.{fn}: expected dict for argument dict but found {type_name(value)}",
            kind="type error",
            param="dict",
            hint='Build one with dict.fromList(pairs: [{key: "a", value: 1}]).',
        )
    return value


def _check(items: dict[Any, Any], key: Any, value: Any, fn: str, *, param: str) -> None:
    kind = type_name(key)
    if kind not in _KEY_TYPES:
        raise FluxRuntimeError(
            f"dict.{fn}: a dictionary key must be a comparable basic value, not {kind}",
            kind="type error",
            param=param,
        )
    if items:
        first_key, first_value = next(iter(items.items()))
        if type_name(first_key) != kind:
            raise FluxRuntimeError(
                f"dict.{fn}: expected {type_name(first_key)} but found {kind} for the key",
                kind="type error",
                param=param,
            )
        if (
            value is not None
            and first_value is not None
            and type_name(first_value) != type_name(value)
        ):
            raise FluxRuntimeError(
                f"dict.{fn}: expected {type_name(first_value)} but found "
                f"{type_name(value)} for the value",
                kind="type error",
                param=param,
            )


def _from_list(interp: Any, pairs: Any) -> FluxDict:
    expect(pairs, "pairs", "dict.fromList", "array")
    items: dict[Any, Any] = {}
    for pair in pairs:
        expect(pair, "pairs", "dict.fromList", "record")
        if "key" not in pair or "value" not in pair:
            raise FluxRuntimeError(
                "dict.fromList: every pair must be a record {key: ..., value: ...}",
                kind="type error",
                param="pairs",
            )
        _check(items, pair["key"], pair["value"], "fromList", param="pairs")
        items[pair["key"]] = pair["value"]
    return FluxDict(items)


def _same_key_type(items: dict[Any, Any], key: Any, fn: str) -> None:
    """A key of another type than the dictionary's is a type error (1.0 never finds 1)."""
    if items:
        expected = type_name(next(iter(items)))
        if type_name(key) != expected:
            raise FluxRuntimeError(
                f"dict.{fn}: expected {expected} but found {type_name(key)} for the key",
                kind="type error",
                param="key",
            )


def _get(interp: Any, dict: Any, key: Any, default: Any) -> Any:
    items = _dict(dict, "get").items
    _same_key_type(items, key, "get")
    return items.get(key, default)


def _insert(interp: Any, dict: Any, key: Any, value: Any) -> FluxDict:
    items = _dict(dict, "insert").items
    _check(items, key, value, "insert", param="key")
    return FluxDict({**items, key: value})


def _remove(interp: Any, dict: Any, key: Any) -> FluxDict:
    items = _dict(dict, "remove").items
    _same_key_type(items, key, "remove")
    return FluxDict({k: v for k, v in items.items() if k != key})


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "fromList": builtin(
            "dict.fromList",
            "pairs",
            _from_list,
            example='dict.fromList(pairs: [{key: "a", value: 1}])',
        ),
        "get": builtin(
            "dict.get",
            "dict, key, default",
            _get,
            example='dict.get(dict: d, key: "a", default: 0)',
        ),
        "insert": builtin(
            "dict.insert",
            "dict, key, value",
            _insert,
            example='dict.insert(dict: d, key: "b", value: 2)',
        ),
        "remove": builtin(
            "dict.remove", "dict, key", _remove, example='dict.remove(dict: d, key: "a")'
        ),
    }
