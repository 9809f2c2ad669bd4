"""A tree-walking evaluator for the Flux syntax tree, with Flux's typing and null rules."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from flux_magic._errors import FluxError
from flux_magic._flux import _ast as ast
from flux_magic._flux._diagnostics import FluxRuntimeError, flux_error
from flux_magic._flux._values import (
    Duration,
    UInt,
    format_duration,
    format_float,
    format_time,
    type_name,
)

__all__ = [
    "Builtin",
    "Closure",
    "FluxWarning",
    "Interpreter",
    "Package",
    "Scope",
    "to_string",
]

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_NUMBER = (int, float)


#: Flux universe functions outside flux_magic (named in the hint of an undefined identifier).
_NOT_IMPLEMENTED = frozenset(
    [
        "from",
        "to",
        "buckets",
        "window",
        "join",
        "median",
        "quantile",
        "stddev",
        "truncateTimeColumn",
        "histogram",
        "histogramQuantile",
        "stateCount",
        "stateDuration",
        "movingAverage",
        "exponentialMovingAverage",
        "increase",
        "integral",
        "mode",
        "skew",
        "holtWinters",
        "sample",
        "hourSelection",
        "highestMax",
        "highestAverage",
        "highestCurrent",
        "lowestMin",
        "lowestAverage",
        "lowestCurrent",
        "kaufmansAMA",
        "chandeMomentumOscillator",
        "covariance",
        "cov",
        "pearsonr",
        "timeWeightedAvg",
        "tripleEMA",
        "doubleEMA",
        "relativeStrengthIndex",
    ]
)


class FluxWarning(UserWarning):
    """Flux source that runs, but not as written (e.g. the ``mapfn`` typo of Flux's docs)."""


class Scope:
    """Nested name bindings: function bodies see their definition scope."""

    def __init__(self, parent: Scope | None = None, names: dict[str, Any] | None = None) -> None:
        self.parent = parent
        self.names: dict[str, Any] = dict(names or {})

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        raise KeyError(name)

    def defines(self, name: str) -> bool:
        try:
            self.lookup(name)
        except KeyError:
            return False
        return True


@dataclass
class Package:
    """An imported Flux package: a named record of functions and values."""

    name: str
    members: dict[str, Any]

    def __repr__(self) -> str:
        return f"<package {self.name}>"


@dataclass
class Builtin:
    """A function implemented in Python.

    ``impl(interp, **args)`` receives Flux values; ``params`` lists every parameter,
    ``required`` the ones without a default, ``pipe`` the parameter fed by ``|>``.
    ``aliases`` maps accepted misspellings to the real parameter (with a warning).
    """

    name: str
    impl: Callable[..., Any]
    params: tuple[str, ...]
    required: frozenset[str] = frozenset()
    pipe: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    example: str = ""

    def __repr__(self) -> str:
        return f"<builtin {self.name}>"


@dataclass
class Closure:
    """A Flux function literal together with the scope it was defined in."""

    node: ast.Function
    scope: Scope
    interp: Interpreter

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.node.params)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(p.name for p in self.node.params if p.default is None)

    @property
    def pipe(self) -> str | None:
        for p in self.node.params:
            if isinstance(p.default, ast.PipeLiteral):
                return p.name
        return None

    @property
    def name(self) -> str:
        return self.interp.source[self.node.start : self.node.end].split("=>")[0].strip()

    def __call__(self, **kwargs: Any) -> Any:
        return self.interp.invoke(self, kwargs, self.node)

    def __repr__(self) -> str:
        return f"<function {self.name}>"


def to_string(value: Any) -> str:
    """Flux's text of a basic value (``string(v:)`` and string interpolation)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp):
        return format_time(value)
    if isinstance(value, Duration):
        return format_duration(value)
    raise FluxRuntimeError(
        f"expected a basic value (string, int, uint, float, bool, time, duration) "
        f"but found {type_name(value)}",
        kind="type error",
    )


class _ReturnSignal(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _check_int(value: int) -> int:
    if not _INT_MIN <= value <= _INT_MAX:
        raise FluxRuntimeError(f"integer overflow: {value} does not fit in a 64-bit int")
    return value


def _same_number_types(op: str, left: Any, right: Any) -> str:
    lt, rt = type_name(left), type_name(right)
    if lt != rt:
        conversion = {"float": "float(v: ...)", "int": "int(v: ...)", "uint": "uint(v: ...)"}
        hint = ""
        if lt in conversion and rt in conversion:
            hint = (
                "; Flux never converts numbers implicitly: convert one side with "
                f"{conversion[lt]} or {conversion[rt]}"
            )
        raise FluxRuntimeError(
            f"expected {lt} but found {rt} for the right operand of {op}{hint}",
            kind="type error",
        )
    return lt


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    kind = _same_number_types(op, left, right)
    if op == "+":
        if kind in ("string", "int", "uint", "float"):
            result = left + right
        elif kind == "duration":
            return Duration.from_timedelta(left.to_timedelta() + right.to_timedelta())
        else:
            raise FluxRuntimeError(f"+ is not defined for {kind}", kind="type error")
    elif kind not in ("int", "uint", "float"):
        raise FluxRuntimeError(f"{op} is not defined for {kind}", kind="type error")
    elif op == "-":
        result = left - right
    elif op == "*":
        result = left * right
    elif op == "/":
        if right == 0:
            if kind == "float":
                return math.copysign(math.inf, left) if left else math.nan
            raise FluxRuntimeError("cannot divide by zero")
        if kind == "float":
            return left / right
        quotient = abs(int(left)) // abs(int(right))
        result = quotient if (left >= 0) == (right >= 0) else -quotient
    elif op == "%":
        if right == 0:
            if kind == "float":
                return math.nan
            raise FluxRuntimeError("cannot compute the remainder of a division by zero")
        if kind == "float":
            return math.fmod(left, right)
        result = abs(int(left)) % abs(int(right))
        result = result if left >= 0 else -result
    elif op == "^":
        if kind == "float" or right < 0:
            return float(left) ** float(right)
        result = left**right
    else:  # pragma: no cover - the grammar has no other operator
        raise FluxRuntimeError(f"unknown operator {op}")
    if kind == "uint":
        return UInt(result)
    if kind == "int":
        return _check_int(int(result))
    return result


def _match(op: str, left: Any, right: Any) -> bool | None:
    if type_name(right) != "regexp":
        raise FluxRuntimeError(
            f"expected regexp but found {type_name(right)} for the right operand of {op}",
            kind="type error",
        )
    if left is None:
        return None
    if not isinstance(left, str):
        raise FluxRuntimeError(
            f"expected string but found {type_name(left)} for the left operand of {op}",
            kind="type error",
        )
    found = right.search(left) is not None
    return found if op == "=~" else not found


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if op in ("=~", "!~"):
        return _match(op, left, right)
    if left is None or right is None:
        return None
    lt, rt = type_name(left), type_name(right)
    numeric = {"int", "uint", "float"}
    if not (lt == rt or (lt in numeric and rt in numeric)):
        raise FluxRuntimeError(f"cannot compare {lt} with {rt} using {op}", kind="type error")
    if lt == "duration":
        left, right = left.total_nanoseconds(), right.total_nanoseconds()
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if lt in ("bool", "record", "array", "bytes") and lt == rt and lt != "bytes":
        raise FluxRuntimeError(f"{op} is not defined for {lt}", kind="type error")
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


class Interpreter:
    """Evaluates syntax trees of one source text; errors point into that text."""

    def __init__(self, source: str, *, now: Callable[[], pd.Timestamp] | None = None) -> None:
        self.source = source
        self.now_fn: Callable[[], pd.Timestamp] | Closure | None = now
        self.results: list[tuple[str, pd.DataFrame]] = []
        self.yielded: set[int] = set()
        self.options: dict[str, Any] = {}
        self.endpoint_options: dict[str, Any] = {}
        self.is_program = False

    # errors -------------------------------------------------------------------------------
    def error(
        self, node: ast.Node, message: str, *, kind: str = "error", hint: str | None = None
    ) -> FluxError:
        return flux_error(self.source, node.start, node.end, message, kind=kind, hint=hint)

    def now(self) -> pd.Timestamp:
        """The value of ``now()``: ``option now`` when set, else the current UTC time."""
        fn = self.now_fn
        if isinstance(fn, Closure):
            value = fn()
            if not isinstance(value, pd.Timestamp):
                raise FluxRuntimeError(
                    f"option now must return a time, not {type_name(value)}", kind="type error"
                )
            return value
        if fn is not None:
            return fn()
        return pd.Timestamp.now(tz="UTC").as_unit("ns")

    # statements ---------------------------------------------------------------------------
    def execute(self, statements: Iterable[ast.Stmt], scope: Scope) -> Any:
        """Run statements; returns the value of a ``return`` (blocks), else None."""
        for stmt in statements:
            self.statement(stmt, scope)
        return None

    def statement(self, stmt: ast.Stmt, scope: Scope) -> None:
        if isinstance(stmt, ast.Assign):
            if stmt.name in scope.names:
                raise self.error(stmt, f"{stmt.name} is already defined; Flux names are bound once")
            scope.names[stmt.name] = self.eval(stmt.value, scope)
        elif isinstance(stmt, ast.Return):
            raise _ReturnSignal(self.eval(stmt.value, scope))
        elif isinstance(stmt, ast.ExprStmt):
            value = self.eval(stmt.expr, scope)
            if isinstance(value, pd.DataFrame) and id(value) not in self.yielded:
                name = "_result" if not self.results else f"_result{len(self.results)}"
                self.results.append((name, value))
                self.yielded.add(id(value))
        elif isinstance(stmt, ast.Option):
            value = self.eval(stmt.value, scope)
            if stmt.package is None and stmt.name == "now":
                if not isinstance(value, Closure):
                    raise self.error(
                        stmt.value,
                        f"option now must be a function returning a time, not {type_name(value)}",
                        kind="type error",
                        hint="Write e.g. `option now = () => 2030-01-01T00:00:00Z`.",
                    )
                self.now_fn = value
            else:
                key = f"{stmt.package}.{stmt.name}" if stmt.package else stmt.name
                self.options[key] = value
            if stmt.package is None:
                scope.names[stmt.name] = value  # an option is visible to later statements
        elif isinstance(stmt, ast.Import):
            raise self.error(stmt, "imports must come first, at the top of the program")
        else:  # pragma: no cover
            raise self.error(stmt, f"unsupported statement {type(stmt).__name__}")

    # expressions --------------------------------------------------------------------------
    def eval(self, node: ast.Expr, scope: Scope) -> Any:
        method = getattr(self, "_eval_" + type(node).__name__)
        return method(node, scope)

    def _eval_Literal(self, node: ast.Literal, scope: Scope) -> Any:
        return node.value

    def _eval_PipeLiteral(self, node: ast.PipeLiteral, scope: Scope) -> Any:
        raise self.error(node, "<- is only allowed as a parameter default")

    def _eval_Ident(self, node: ast.Ident, scope: Scope) -> Any:
        try:
            return scope.lookup(node.name)
        except KeyError:
            raise self.undefined(node) from None

    def undefined(self, node: ast.Ident) -> FluxError:
        hint = None
        if node.name in (
            *("http", "json", "strings", "sampledata", "csv", "array"),
            *("math", "regexp", "date", "dict", "types", "timezone"),
        ):
            hint = (
                f'Add `import "{node.name}"` at the top of the program.'
                if self.is_program
                else "A mapping function can use the packages http, json and strings; "
                f"{node.name} is for %%flux programs."
            )
        elif node.name in _NOT_IMPLEMENTED:
            hint = (
                f"{node.name}() is a Flux function flux_magic does not implement; the README's "
                "Flux section lists what %%flux supports."
            )
        elif node.name in ("true", "false"):
            hint = None
        elif node.name == "null":
            hint = "Flux has no null literal; test for a missing value with `exists r.x`."
        elif node.name in ("True", "False", "None", "lambda"):
            hint = "This looks like Python; Flux writes true, false and (r) => ..."
        return self.error(node, f"undefined identifier {node.name}", hint=hint)

    def _eval_Interp(self, node: ast.Interp, scope: Scope) -> str:
        out: list[str] = []
        for part in node.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = self.eval(part, scope)
            if value is None:
                raise self.error(part, "interpolated expression produced a null value")
            try:
                out.append(to_string(value))
            except FluxRuntimeError as exc:
                raise self.error(
                    part,
                    f"cannot interpolate a value of type {type_name(value)}; "
                    "only string, int, uint, float, bool, time and duration interpolate",
                    kind="type error",
                    hint="Convert it first, e.g. string(v: ...)."
                    if type_name(value) == "bytes"
                    else None,
                ) from exc
        return "".join(out)

    def _eval_Array(self, node: ast.Array, scope: Scope) -> list[Any]:
        return [self.eval(item, scope) for item in node.items]

    def _eval_Record(self, node: ast.Record, scope: Scope) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if node.base is not None:
            base = self.eval(node.base, scope)
            if not isinstance(base, dict):
                raise self.error(
                    node.base,
                    f"`with` needs a record on its left, not {type_name(base)}",
                    kind="type error",
                )
            out.update(base)
        seen: set[str] = set()
        for prop in node.properties:
            if prop.key in seen:
                raise self.error(prop, f"duplicate property {prop.key} in record")
            seen.add(prop.key)
            out[prop.key] = self.eval(prop.value, scope)
        return out

    def _eval_Function(self, node: ast.Function, scope: Scope) -> Closure:
        return Closure(node, scope, self)

    def _eval_Member(self, node: ast.Member, scope: Scope) -> Any:
        obj = self.eval(node.obj, scope)
        return self.member(obj, node.name, node)

    def member(self, obj: Any, name: str, node: ast.Node) -> Any:
        if isinstance(obj, dict):
            return obj.get(name)
        if isinstance(obj, Package):
            if name not in obj.members:
                known = ", ".join(sorted(obj.members))
                raise self.error(
                    node,
                    f"package {obj.name} has no member {name}",
                    hint=f"{obj.name} provides: {known}.",
                )
            return obj.members[name]
        if obj is None:
            raise self.error(node, f"cannot access property {name} of a null value")
        raise self.error(
            node,
            f"cannot access property {name}: expected a record but found {type_name(obj)}",
            kind="type error",
        )

    def _eval_Index(self, node: ast.Index, scope: Scope) -> Any:
        obj = self.eval(node.obj, scope)
        index = self.eval(node.index, scope)
        if isinstance(obj, dict | Package) and isinstance(index, str):
            return self.member(obj, index, node)
        if isinstance(obj, list):
            if not isinstance(index, int) or isinstance(index, bool):
                raise self.error(
                    node.index,
                    f"an array index must be an int, not {type_name(index)}",
                    kind="type error",
                )
            if not 0 <= index < len(obj):
                raise self.error(
                    node.index, f"index out of bounds: {index} (array of length {len(obj)})"
                )
            return obj[index]
        if obj is None:
            return None
        raise self.error(
            node,
            f"cannot index a {type_name(obj)} with a {type_name(index)}",
            kind="type error",
        )

    def _eval_Binary(self, node: ast.Binary, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        try:
            if node.op in ("==", "!=", "<", "<=", ">", ">=", "=~", "!~"):
                return _compare(node.op, left, right)
            return _arith(node.op, left, right)
        except FluxRuntimeError as exc:
            raise self.error(node, exc.message, kind=exc.kind) from None

    def _bool(self, node: ast.Expr, value: Any, what: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        raise self.error(
            node,
            f"expected bool but found {type_name(value)} ({what})",
            kind="type error",
        )

    def _eval_Logical(self, node: ast.Logical, scope: Scope) -> bool | None:
        """Three-valued, as Flux's spec: ``null or false`` and ``null and true`` are null."""
        left = self._bool(node.left, self.eval(node.left, scope), f"left side of {node.op}")
        if node.op == "and" and left is False:
            return False
        if node.op == "or" and left is True:
            return True
        right = self._bool(node.right, self.eval(node.right, scope), f"right side of {node.op}")
        if left is None:
            decided = node.op == "or"  # what settles it: false for and, true for or
            return decided if right is decided else None
        return right

    def _eval_Unary(self, node: ast.Unary, scope: Scope) -> Any:
        value = self.eval(node.operand, scope)
        if node.op == "not":
            checked = self._bool(node.operand, value, "operand of not")
            return None if checked is None else not checked
        if value is None:
            return None
        if isinstance(value, Duration):
            return Duration(value.months, value.nanoseconds, not value.negative)
        if isinstance(value, bool) or not isinstance(value, _NUMBER):
            raise self.error(
                node, f"unary {node.op} is not defined for {type_name(value)}", kind="type error"
            )
        if node.op == "+":
            return value
        if isinstance(value, UInt):
            raise self.error(node, "cannot negate a uint", kind="type error")
        return -value

    def _eval_Exists(self, node: ast.Exists, scope: Scope) -> bool:
        return self.eval(node.operand, scope) is not None

    def _eval_Cond(self, node: ast.Cond, scope: Scope) -> Any:
        test = self._bool(node.test, self.eval(node.test, scope), "condition of if")
        return self.eval(node.then if test else node.otherwise, scope)

    def _eval_Call(self, node: ast.Call, scope: Scope, piped: Any = None) -> Any:
        fn = self.eval(node.callee, scope)
        args: dict[str, Any] = {}
        arg_nodes: dict[str, ast.Arg] = {}
        for arg in node.args:
            if arg.name is None:
                raise self.positional(node, arg, fn)
            if arg.name in args:
                raise self.error(arg, f"argument {arg.name} is given twice")
            args[arg.name] = self.eval(arg.value, scope)
            arg_nodes[arg.name] = arg
        return self.apply(fn, args, node, arg_nodes, piped=piped, has_pipe=piped is not None)

    def positional(self, node: ast.Call, arg: ast.Arg, fn: Any) -> FluxError:
        params = getattr(fn, "params", ())
        callee = self.source[node.callee.start : node.callee.end]
        value = self.source[arg.value.start : arg.value.end]
        name = params[0] if params else "name"
        return self.error(
            arg,
            "positional argument: Flux calls take named arguments",
            hint=f"Write {callee}({name}: {value}).",
        )

    def _eval_Pipe(self, node: ast.Pipe, scope: Scope) -> Any:
        value = self.eval(node.value, scope)
        return self._eval_Call(node.call, scope, piped=_Piped(value))

    # calls --------------------------------------------------------------------------------
    def apply(
        self,
        fn: Any,
        args: dict[str, Any],
        node: ast.Call,
        arg_nodes: dict[str, ast.Arg] | None = None,
        *,
        piped: Any = None,
        has_pipe: bool = False,
    ) -> Any:
        arg_nodes = arg_nodes or {}
        callee = self.source[node.callee.start : node.callee.end]
        if not isinstance(fn, Builtin | Closure):
            raise self.error(
                node.callee,
                f"{callee} is a {type_name(fn)}, not a function",
                kind="type error",
            )
        if isinstance(fn, Builtin):
            for wrong, right in fn.aliases.items():
                if wrong in args and right not in args:
                    warnings.warn(
                        f"{wrong} is not a parameter of {fn.name}: the parameter is {right}. "
                        f"(Flux's own docs example for http.endpoint writes {wrong}:, a typo; "
                        f"flux_magic runs it as {right}:.)",
                        FluxWarning,
                        stacklevel=2,
                    )
                    args[right] = args.pop(wrong)
                    arg_nodes[right] = arg_nodes.pop(wrong, node)  # type: ignore[arg-type]
        params = fn.params
        for name, arg in list(arg_nodes.items()):
            if name not in params:
                takes = ", ".join(f"{p}:" for p in params if p != fn.pipe) or "no arguments"
                raise self.error(
                    arg,
                    f"unexpected argument {name}: {callee} takes {takes}",
                )
        if has_pipe:
            if fn.pipe is None:
                raise self.error(
                    node,
                    f"{callee} does not accept a piped-forward value (no <- parameter)",
                )
            args[fn.pipe] = piped.value
        missing = [p for p in params if p in fn.required and p not in args]
        if fn.pipe in missing:
            missing.remove(fn.pipe)
            if not has_pipe:
                raise self.error(
                    node,
                    f"missing required argument {fn.pipe}: {callee} needs a piped-forward value",
                    hint=f"Pipe it in, e.g. `data |> {callee}(...)`, or pass {fn.pipe}: ...",
                )
        if missing:
            example = fn.example if isinstance(fn, Builtin) and fn.example else None
            raise self.error(
                node,
                f"missing required argument {', '.join(missing)}",
                hint=f"Write e.g. {example}." if example else None,
            )
        if isinstance(fn, Closure):
            return self.invoke(fn, args, node)
        try:
            return fn.impl(self, **args)
        except FluxRuntimeError as exc:
            where: ast.Node = arg_nodes.get(exc.param or "", node)
            if isinstance(where, ast.Arg):
                where = where.value
            error = self.error(where, exc.message, kind=exc.kind, hint=exc.hint)
            if hasattr(exc, "result"):
                error.result = exc.result  # type: ignore[attr-defined]
            raise error from exc.__cause__

    def invoke(self, fn: Closure, args: dict[str, Any], node: ast.Node) -> Any:
        """Call a Flux function literal with named arguments (Flux values)."""
        local = Scope(fn.scope)
        for param in fn.node.params:
            if param.name in args:
                local.names[param.name] = args[param.name]
            elif param.default is not None and not isinstance(param.default, ast.PipeLiteral):
                local.names[param.name] = self.eval(param.default, fn.scope)
            else:
                raise self.error(node, f"missing required argument {param.name}")
        body = fn.node.body
        if isinstance(body, ast.Block):
            try:
                self.execute(body.body, local)
            except _ReturnSignal as signal:
                return signal.value
            raise self.error(body, "missing return statement in function block")
        return self.eval(body, local)


@dataclass
class _Piped:
    value: Any
