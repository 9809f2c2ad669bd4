"""Evaluate ``filter`` and ``map`` functions over whole pandas columns where Flux allows.

A function literal ``(r) => ...`` is evaluated once for the whole table: ``r.x`` is the column
``x`` as a numpy array with a null mask, and operators work on arrays with Flux's typing and
null rules. Anything this evaluator does not cover exactly as the interpreter does (an
unsupported node or type, an error, a value at the edge of a rule such as an integer overflow
or a division by zero) makes it give up: the caller then evaluates row by row, so results and
errors are the interpreter's in every case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from flux_magic._flux import _ast as ast
from flux_magic._flux._interpreter import Builtin, Closure, Package
from flux_magic._flux._tables import column_kind
from flux_magic._flux._values import (
    Duration,
    UInt,
    format_duration,
    format_float,
    format_time,
    is_regexp,
    type_name,
)

__all__ = ["ENABLED", "mapping", "predicate"]

#: Switch for the benchmark and the tests: False evaluates every row with the interpreter.
ENABLED = True

_Array = np.ndarray[Any, Any]
_LIMIT = float(2**62)  # integer results beyond this go to the interpreter (exact overflow rules)
_INT_MIN = -(2**63)
_NUMERIC = ("int", "uint", "float")


class _GiveUp(Exception):
    """This function or table is not vectorised; evaluate row by row."""


@dataclass
class _Vec:
    """A column of Flux values: ``data`` (numpy) and ``null`` (bool mask); one Flux type."""

    kind: str
    data: _Array
    null: _Array


@dataclass
class _Const:
    """A value that is the same for every row (``None`` is null)."""

    value: Any


_Value = _Vec | _Const
_ROW = object()


#: The Flux types evaluated over whole columns; any other value falls back to the interpreter.
_COLUMN_KINDS = frozenset(
    {"null", "bool", "uint", "int", "float", "string", "time", "duration", "regexp"}
)


def _kind_of(value: Any) -> str:
    kind = type_name(value)
    if kind not in _COLUMN_KINDS or (kind == "duration" and value.months):
        raise _GiveUp
    return kind


def _scalar_data(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return int(value.value)
    if isinstance(value, Duration):
        return value.total_nanoseconds()
    if isinstance(value, UInt):
        return np.uint64(int(value))
    return value


_DTYPES = {
    "int": np.int64,
    "uint": np.uint64,
    "float": np.float64,
    "bool": np.bool_,
    "string": object,
    "time": np.int64,
    "duration": np.int64,
}


class _Table:
    """The columns of one table as vectors, read on first use."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self.n = len(df)
        self.cache: dict[str, _Value] = {}

    def column(self, name: str) -> _Value:
        if name in self.cache:
            return self.cache[name]
        if name not in self.df.columns:
            value: _Value = _Const(None)
        else:
            value = _read(self.df[name])
        self.cache[name] = value
        return value

    def full(self, value: _Value) -> _Vec:
        """A vector of ``value`` for every row."""
        if isinstance(value, _Vec):
            return value
        kind = _kind_of(value.value)
        if kind in ("null", "regexp"):
            raise _GiveUp
        data: _Array = np.empty(self.n, dtype=_DTYPES[kind])
        data[:] = _scalar_data(value.value)
        return _Vec(kind, data, np.zeros(self.n, dtype=bool))


def _read(series: pd.Series) -> _Vec:
    kind = column_kind(series)
    null = series.isna().to_numpy(dtype=bool)
    if kind == "int":
        data = series.to_numpy(dtype=np.int64, na_value=0)
    elif kind == "uint":
        data = series.to_numpy(dtype=np.uint64, na_value=0)
    elif kind == "float":
        data = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif kind == "bool":
        data = series.to_numpy(dtype=bool, na_value=False)
    elif kind == "string":
        data = _nones(series.astype(object).to_numpy(), null)
    elif kind == "time":
        data = series.dt.as_unit("ns").dt.tz_convert("UTC").array.asi8.copy()
    elif kind == "duration":
        data = series.dt.as_unit("ns").array.asi8.copy()
    else:
        raise _GiveUp
    return _Vec(kind, data, null)


# evaluation -----------------------------------------------------------------------------------


class _Evaluator:
    def __init__(self, fn: Closure, table: _Table) -> None:
        self.fn = fn
        self.table = table
        self.row = fn.params[0]

    def run(self) -> Any:
        return self.body(self.fn.node.body, {})

    def body(self, body: ast.Expr | ast.Block, local: dict[str, Any]) -> Any:
        if not isinstance(body, ast.Block):
            return self.eval(body, local)
        for stmt in body.body:
            if isinstance(stmt, ast.Assign) and stmt.name not in local:
                local[stmt.name] = self.eval(stmt.value, local)
            elif isinstance(stmt, ast.Return):
                return self.eval(stmt.value, local)
            else:
                raise _GiveUp
        raise _GiveUp

    def lookup(self, name: str, local: dict[str, Any]) -> Any:
        if name in local:
            return local[name]
        if name == self.row:
            return _ROW
        try:
            value = self.fn.scope.lookup(name)
        except KeyError:
            raise _GiveUp from None
        if isinstance(value, Builtin | Closure | Package | pd.DataFrame | dict | list):
            raise _GiveUp
        _kind_of(value)
        return _Const(value)

    def eval(self, node: ast.Expr, local: dict[str, Any]) -> Any:
        if isinstance(node, ast.Literal):
            _kind_of(node.value)
            return _Const(node.value)
        if isinstance(node, ast.Ident):
            return self.lookup(node.name, local)
        if isinstance(node, ast.Member):
            return self.field(node.obj, node.name, local)
        if isinstance(node, ast.Index) and isinstance(node.index, ast.Literal):
            if isinstance(node.index.value, str):
                return self.field(node.obj, node.index.value, local)
            raise _GiveUp
        if isinstance(node, ast.Record):
            return self.record(node, local)
        if isinstance(node, ast.Binary):
            left = self.value(node.left, local)
            right = self.value(node.right, local)
            if node.op in ("==", "!=", "<", "<=", ">", ">="):
                return self.compare(node.op, left, right)
            if node.op in ("=~", "!~"):
                return self.match(node.op, left, right)
            return self.arith(node.op, left, right)
        if isinstance(node, ast.Logical):
            return self.logical(node.op, self.value(node.left, local), node.right, local)
        if isinstance(node, ast.Unary):
            return self.unary(node.op, self.value(node.operand, local))
        if isinstance(node, ast.Exists):
            operand = self.value(node.operand, local)
            if isinstance(operand, _Const):
                return _Const(operand.value is not None)
            return _Vec("bool", ~operand.null, np.zeros(self.table.n, dtype=bool))
        if isinstance(node, ast.Cond):
            return self.cond(node, local)
        if isinstance(node, ast.Interp):
            return self.interp(node, local)
        if isinstance(node, ast.Call):
            return self.call(node, local)
        raise _GiveUp

    def value(self, node: ast.Expr, local: dict[str, Any]) -> _Value:
        result = self.eval(node, local)
        if not isinstance(result, _Vec | _Const):
            raise _GiveUp
        return result

    def field(self, obj: ast.Expr, name: str, local: dict[str, Any]) -> _Value:
        if self.eval(obj, local) is not _ROW:
            raise _GiveUp
        return self.table.column(name)

    def record(self, node: ast.Record, local: dict[str, Any]) -> dict[str, _Value]:
        out: dict[str, _Value] = {}
        if node.base is not None:
            if self.eval(node.base, local) is not _ROW:
                raise _GiveUp
            for name in self.table.df.columns:
                out[str(name)] = self.table.column(str(name))
        seen: set[str] = set()
        for prop in node.properties:
            if prop.key in seen:
                raise _GiveUp
            seen.add(prop.key)
            out[prop.key] = self.value(prop.value, local)
        return out

    # operators --------------------------------------------------------------------------------
    def compare(self, op: str, left: _Value, right: _Value) -> _Value:
        if _is_null(left) or _is_null(right):
            return _Const(None)
        if isinstance(left, _Const) and isinstance(right, _Const):
            raise _GiveUp
        a, b = self.table.full(left), self.table.full(right)
        if a.kind != b.kind and not (
            {a.kind, b.kind} <= {"int", "float"} or {a.kind, b.kind} <= {"uint", "float"}
        ):
            raise _GiveUp
        if a.kind in ("bool", "regexp") and op not in ("==", "!="):
            raise _GiveUp
        if a.kind != b.kind:  # int or uint against float: exact only within 2**53
            whole = a if a.kind != "float" else b
            if np.any((np.abs(whole.data.astype(np.float64)) > 2.0**53) & ~whole.null):
                raise _GiveUp
        with np.errstate(invalid="ignore"):
            result = {
                "==": np.equal,
                "!=": np.not_equal,
                "<": np.less,
                "<=": np.less_equal,
                ">": np.greater,
                ">=": np.greater_equal,
            }[op](a.data, b.data)
        null = a.null | b.null
        return _Vec("bool", np.asarray(result, dtype=bool), null)

    def match(self, op: str, left: _Value, right: _Value) -> _Value:
        if not isinstance(right, _Const) or not is_regexp(right.value):
            raise _GiveUp
        if _is_null(left):
            return _Const(None)
        a = self.table.full(left)
        if a.kind != "string":
            raise _GiveUp
        search = right.value.search
        found = np.fromiter(
            (s is not None and search(s) is not None for s in a.data), dtype=bool, count=len(a.data)
        )
        return _Vec("bool", found if op == "=~" else ~found, a.null.copy())

    def arith(self, op: str, left: _Value, right: _Value) -> _Value:
        if isinstance(left, _Const) and isinstance(right, _Const):
            raise _GiveUp
        if _is_null(left) or _is_null(right):
            raise _GiveUp  # the interpreter decides types before nulls here
        a, b = self.table.full(left), self.table.full(right)
        if a.kind != b.kind:
            raise _GiveUp
        kind = a.kind
        null = a.null | b.null
        live = ~null
        if kind == "string" and op == "+":
            joined = _nones(a.data, null)
            joined[live] = a.data[live] + b.data[live]
            return _Vec("string", joined, null)
        if kind == "duration" and op in ("+", "-"):
            return _Vec("duration", self._checked_int(op, a.data, b.data, live), null)
        if kind not in _NUMERIC or op == "^":
            raise _GiveUp
        if op in ("/", "%") and np.any((b.data == 0) & live):
            raise _GiveUp
        if kind == "float":
            with np.errstate(all="ignore"):
                data = {
                    "+": np.add,
                    "-": np.subtract,
                    "*": np.multiply,
                    "/": np.divide,
                    "%": np.fmod,
                }[op](a.data, b.data)
            return _Vec("float", data, null)
        if kind == "uint":
            if op == "/":
                data = a.data // np.where(live, b.data, 1)
            elif op == "%":
                data = a.data % np.where(live, b.data, 1)
            else:
                data = {"+": np.add, "-": np.subtract, "*": np.multiply}[op](a.data, b.data)
            return _Vec("uint", data, null)
        if op in ("+", "-", "*"):
            return _Vec("int", self._checked_int(op, a.data, b.data, live), null)
        if np.any((a.data == _INT_MIN) & live):
            raise _GiveUp
        divisor = np.where(live, b.data, 1)
        if op == "/":
            quotient = np.abs(a.data) // np.abs(divisor)
            return _Vec("int", np.where((a.data >= 0) == (divisor >= 0), quotient, -quotient), null)
        return _Vec("int", np.fmod(a.data, divisor), null)

    @staticmethod
    def _checked_int(op: str, a: _Array, b: _Array, live: _Array) -> _Array:
        af, bf = a.astype(np.float64), b.astype(np.float64)
        estimate = {"+": af + bf, "-": af - bf, "*": af * bf}[op]
        if np.any((np.abs(estimate) >= _LIMIT) & live):
            raise _GiveUp
        ops: dict[str, Callable[[_Array, _Array], _Array]] = {
            "+": np.add,
            "-": np.subtract,
            "*": np.multiply,
        }
        return ops[op](np.where(live, a, 0), np.where(live, b, 0))

    def logical(self, op: str, left: _Value, right_node: ast.Expr, local: dict[str, Any]) -> _Value:
        right = self.value(right_node, local)
        a, b = self._bool(left), self._bool(right)
        if op == "and":
            false = (~a.data & ~a.null) | (~b.data & ~b.null)
            true = a.data & ~a.null & b.data & ~b.null
        else:
            true = (a.data & ~a.null) | (b.data & ~b.null)
            false = ~a.data & ~a.null & ~b.data & ~b.null
        return _Vec("bool", true, ~(true | false))

    def _bool(self, value: _Value) -> _Vec:
        if isinstance(value, _Const) and value.value is None:
            n = self.table.n
            return _Vec("bool", np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
        vec = self.table.full(value)
        if vec.kind != "bool":
            raise _GiveUp
        return vec

    def unary(self, op: str, value: _Value) -> _Value:
        if isinstance(value, _Const):
            raise _GiveUp
        if op == "not":
            if value.kind != "bool":
                raise _GiveUp
            return _Vec("bool", ~value.data, value.null)
        if op == "+" and value.kind in ("int", "float", "uint"):
            return value
        if value.kind == "float":
            return _Vec("float", -value.data, value.null)
        if value.kind in ("int", "duration"):
            if np.any((value.data == _INT_MIN) & ~value.null):
                raise _GiveUp
            return _Vec(value.kind, -value.data, value.null)
        raise _GiveUp

    def cond(self, node: ast.Cond, local: dict[str, Any]) -> _Value:
        test = self.value(node.test, local)
        then = self.value(node.then, local)
        otherwise = self.value(node.otherwise, local)
        if _is_null(then) or _is_null(otherwise):
            raise _GiveUp
        t = self._bool(test)
        a, b = self.table.full(then), self.table.full(otherwise)
        if a.kind != b.kind:
            raise _GiveUp
        pick = t.data & ~t.null  # a null condition takes the else branch
        return _Vec(a.kind, np.where(pick, a.data, b.data), np.where(pick, a.null, b.null))

    # text -------------------------------------------------------------------------------------
    def text(self, value: _Value) -> _Vec:
        vec = self.table.full(value)
        if np.any(vec.null):
            raise _GiveUp  # the interpreter reports the null
        return _Vec("string", _to_text(vec), vec.null)

    def interp(self, node: ast.Interp, local: dict[str, Any]) -> _Value:
        n = self.table.n
        out = np.full(n, "", dtype=object)
        for part in node.parts:
            if isinstance(part, str):
                out = out + part
            else:
                out = out + self.text(self.value(part, local)).data
        return _Vec("string", out, np.zeros(n, dtype=bool))

    def call(self, node: ast.Call, local: dict[str, Any]) -> _Value:
        if not isinstance(node.callee, ast.Ident) or node.callee.name in local:
            raise _GiveUp
        try:
            fn = self.fn.scope.lookup(node.callee.name)
        except KeyError:
            raise _GiveUp from None
        if not isinstance(fn, Builtin) or [a.name for a in node.args] != ["v"]:
            raise _GiveUp
        value = self.value(node.args[0].value, local)
        if isinstance(value, _Const):
            raise _GiveUp
        if fn.name == "string" and value.kind in _TEXT:
            return _Vec("string", _to_text(value), value.null)
        if fn.name == "float" and value.kind in ("int", "uint", "float"):
            return _Vec("float", value.data.astype(np.float64), value.null)
        if fn.name == "int" and value.kind == "float":
            live = ~value.null
            if not np.all(np.isfinite(value.data[live])) or np.any(
                np.abs(value.data[live]) >= _LIMIT
            ):
                raise _GiveUp
            return _Vec(
                "int", np.trunc(np.where(live, value.data, 0.0)).astype(np.int64), value.null
            )
        if fn.name == "int" and value.kind == "int":
            return value
        raise _GiveUp


def _nones(data: _Array, null: _Array) -> _Array:
    """An object copy of ``data`` with None where ``null``."""
    out: _Array = np.array(data, dtype=object)
    out[null] = None
    return out


def _is_null(value: _Value) -> bool:
    return isinstance(value, _Const) and value.value is None


def _float_text(x: float) -> str:
    text = repr(x)
    if "e" in text or "n" in text:  # exponent, nan, inf
        return format_float(x)
    return text[:-2] if text.endswith(".0") else text


_TEXT: dict[str, Callable[[Any], str]] = {
    "string": str,
    "int": lambda v: str(int(v)),
    "uint": lambda v: str(int(v)),
    "float": _float_text,
    "bool": lambda v: "true" if v else "false",
    "time": lambda v: format_time(pd.Timestamp(int(v), unit="ns", tz="UTC")),
    "duration": lambda v: format_duration(Duration.from_timedelta(pd.Timedelta(int(v)))),
}


def _to_text(vec: _Vec) -> _Array:
    convert = _TEXT[vec.kind]
    if vec.kind == "int":
        data = vec.data.astype(str).astype(object)
    else:
        data = np.array([convert(v) for v in vec.data.tolist()], dtype=object)
    return _nones(data, vec.null)


# building the result --------------------------------------------------------------------------


def _column(vec: _Vec) -> Any:
    """The column the row-by-row path would build for these values (same dtypes)."""
    null = vec.null
    if null.all():
        raise _GiveUp  # the interpreter builds an untyped column of nulls
    if vec.kind == "int":
        return pd.arrays.IntegerArray(vec.data.astype(np.int64), null.copy())
    if vec.kind == "uint":
        return pd.arrays.IntegerArray(vec.data.astype(np.uint64), null.copy())
    if vec.kind == "float":
        data = np.where(null, np.nan, vec.data)
        if np.isnan(data[~null]).any():
            return pd.arrays.FloatingArray(data, null.copy())
        return data
    if vec.kind == "bool":
        return pd.arrays.BooleanArray(vec.data.astype(bool), null.copy())
    if vec.kind == "string":
        return pd.array(_nones(vec.data, null), dtype="str")
    if vec.kind == "time":
        stamps = pd.to_datetime(np.where(null, 0, vec.data), unit="ns", utc=True)
        return pd.Series(stamps).where(~null).astype("datetime64[ns, UTC]").array
    if vec.kind == "duration":
        deltas = pd.to_timedelta(np.where(null, 0, vec.data), unit="ns")
        return pd.Series(deltas).where(~null).astype("timedelta64[ns]").array
    raise _GiveUp


def _attempt(fn: Closure, df: pd.DataFrame) -> tuple[_Table, Any] | None:
    if not ENABLED or len(df) == 0 or len(fn.node.params) != 1:
        return None
    table = _Table(df)
    try:
        return table, _Evaluator(fn, table).run()
    except _GiveUp:
        return None
    except Exception:  # any error: the interpreter reports it, row by row, in its words
        return None


def predicate(fn: Closure, df: pd.DataFrame) -> _Array | None:
    """Rows ``filter(fn)`` keeps, or None when the row-by-row interpreter must decide."""
    attempt = _attempt(fn, df)
    if attempt is None:
        return None
    table, result = attempt
    if isinstance(result, _Const):
        if result.value is None or isinstance(result.value, bool):
            return np.full(table.n, result.value is True, dtype=bool)
        return None
    if not isinstance(result, _Vec) or result.kind != "bool":
        return None
    keep: _Array = result.data & ~result.null  # a null predicate drops the row
    return keep


def mapping(fn: Closure, df: pd.DataFrame) -> pd.DataFrame | None:
    """The table ``map(fn)`` returns, or None when the row-by-row interpreter must build it."""
    attempt = _attempt(fn, df)
    if attempt is None:
        return None
    table, result = attempt
    if not isinstance(result, dict):
        return None
    try:
        data = {name: _column(table.full(value)) for name, value in result.items()}
    except _GiveUp:
        return None
    except Exception:
        return None
    return pd.DataFrame(data, index=df.index)
