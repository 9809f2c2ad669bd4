"""Entry points of the Flux layer: ``flux_fn`` (a mapping function) and ``run_program``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from flux_magic._errors import FluxError
from flux_magic._flux import _ast as ast
from flux_magic._flux import _stdlib
from flux_magic._flux._builtins import PACKAGES, check_request, package, universe
from flux_magic._flux._interpreter import Closure, Interpreter, Package, Scope
from flux_magic._flux._parser import parse_expression, parse_program
from flux_magic._flux._values import from_python, to_python

__all__ = ["FluxFunction", "FluxResult", "flux_fn", "looks_like_flux", "run_program"]

_FN_START = re.compile(
    r"\(\s*(?:[A-Za-z_]\w*\s*(?:=[^,()]*)?(?:,\s*[A-Za-z_]\w*\s*(?:=[^,()]*)?)*,?)?\s*\)\s*=>"
)
_COMMENT = re.compile(r"^\s*(?://[^\n]*\n\s*)*")


def looks_like_flux(text: str) -> bool:
    """Whether ``text`` is (meant to be) a Flux function literal such as ``(r) => ({...})``.

    Cheap and syntactic: a Python expression never starts with ``(...) =>``. Leading ``//``
    comments are skipped.

    Examples
    --------
    >>> looks_like_flux('(r) => ({headers: {}, data: bytes(v: "x")})')
    True
    >>> looks_like_flux('lambda r: {"headers": {}, "data": b"x"}')
    False
    """
    if not isinstance(text, str):
        return False
    rest = text[_COMMENT.match(text).end() :]  # type: ignore[union-attr]
    return _FN_START.match(rest) is not None


def _check_names(interp: Interpreter, nodes: list[Any], scope: set[str]) -> None:
    """Report the first undefined identifier before anything runs (as Flux's compiler does)."""
    for node in nodes:
        _check_node(interp, node, scope)


def _check_node(interp: Interpreter, node: Any, scope: set[str]) -> None:
    if isinstance(node, ast.Ident):
        if node.name not in scope:
            raise interp.undefined(node)
    elif isinstance(node, ast.Function):
        inner = set(scope) | {p.name for p in node.params} | {_USER + p.name for p in node.params}
        for param in node.params:
            if param.default is not None and not isinstance(param.default, ast.PipeLiteral):
                _check_node(interp, param.default, scope)
        if isinstance(node.body, ast.Block):
            _check_statements(interp, node.body.body, inner)
        else:
            _check_node(interp, node.body, inner)
    elif isinstance(node, ast.Interp):
        _check_names(interp, [p for p in node.parts if not isinstance(p, str)], scope)
    elif isinstance(node, ast.Record):
        if node.base is not None:
            _check_node(interp, node.base, scope)
        _check_names(interp, [p.value for p in node.properties], scope)
    elif isinstance(node, ast.Array):
        _check_names(interp, node.items, scope)
    elif isinstance(node, ast.Member):
        _check_node(interp, node.obj, scope)
        if isinstance(node.obj, ast.Ident) and node.obj.name in _STATIC_PACKAGES:
            pkg = package(node.obj.name)
            if pkg is not None and _USER + node.obj.name not in scope:
                interp.member(pkg, node.name, node)
    elif isinstance(node, ast.Index):
        _check_names(interp, [node.obj, node.index], scope)
    elif isinstance(node, ast.Call):
        _check_call(interp, node, scope, piped=False)
    elif isinstance(node, ast.Pipe):
        _check_node(interp, node.value, scope)
        _check_call(interp, node.call, scope, piped=True)
    elif isinstance(node, ast.Binary | ast.Logical):
        _check_names(interp, [node.left, node.right], scope)
    elif isinstance(node, ast.Unary | ast.Exists):
        _check_node(interp, node.operand, scope)
    elif isinstance(node, ast.Cond):
        _check_names(interp, [node.test, node.then, node.otherwise], scope)


_STATIC_PACKAGES = frozenset(PACKAGES)
#: Marks a name bound by the program itself (it may shadow a builtin) in the checker's scope.
_USER = "\0user:"


def _check_call(interp: Interpreter, node: ast.Call, scope: set[str], *, piped: bool) -> None:
    """Arguments that are certainly wrong, reported before anything runs."""
    for arg in node.args:
        if arg.name is None:
            raise interp.positional(node, arg, _static_callee(node.callee))
    _check_names(interp, [node.callee, *(a.value for a in node.args)], scope)
    fn = _static_callee(node.callee)
    root = node.callee.obj if isinstance(node.callee, ast.Member) else node.callee
    if fn is None or not isinstance(root, ast.Ident) or _USER + root.name in scope:
        return
    given = [a.name for a in node.args if a.name is not None]
    for arg in node.args:
        if arg.name not in fn.params and arg.name not in fn.aliases:
            takes = ", ".join(f"{p}:" for p in fn.params if p != fn.pipe) or "no arguments"
            callee = interp.source[node.callee.start : node.callee.end]
            raise interp.error(arg, f"unexpected argument {arg.name}: {callee} takes {takes}")
    missing = [p for p in fn.params if p in fn.required and p not in given and p != fn.pipe]
    if missing:
        raise interp.error(
            node,
            f"missing required argument {', '.join(missing)}",
            hint=f"Write e.g. {fn.example}." if fn.example else None,
        )


def _static_callee(callee: ast.Expr) -> Any:
    """The builtin a callee names, when that is known without running (for messages)."""
    names = universe()
    if isinstance(callee, ast.Ident):
        return names.get(callee.name)
    if isinstance(callee, ast.Member) and isinstance(callee.obj, ast.Ident):
        pkg = package(callee.obj.name)
        return pkg.members.get(callee.name) if pkg else None
    return None


def _check_statements(interp: Interpreter, body: list[ast.Stmt], scope: set[str]) -> None:
    scope = set(scope)
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            _check_node(interp, stmt.value, scope)
            scope.update((stmt.name, _USER + stmt.name))
        elif isinstance(stmt, ast.Option):
            _check_node(interp, stmt.value, scope)
            if stmt.package is None:
                scope.update((stmt.name, _USER + stmt.name))
        elif isinstance(stmt, ast.Return):
            _check_node(interp, stmt.value, scope)
        elif isinstance(stmt, ast.ExprStmt):
            _check_node(interp, stmt.expr, scope)


# flux_fn ----------------------------------------------------------------------------------

_FN_PACKAGES = ("http", "json", "strings")


class FluxFunction:
    """A Flux function literal, callable from Python with a row: ``fn(row) -> dict``.

    Attributes
    ----------
    source : str
        The Flux text.
    __flux__ : bool
        Always True: front ends show ``source`` in previews.
    """

    __flux__ = True

    def __init__(self, source: str, *, now: pd.Timestamp | None = None) -> None:
        self.source = source
        fixed = None if now is None else from_python(now)
        self._interp = Interpreter(source, now=(lambda: fixed) if fixed is not None else None)
        node = parse_expression(source)
        if not isinstance(node, ast.Function):
            raise self._interp.error(
                node,
                "expected a function literal such as (r) => ({...})",
                hint='A mapping function looks like (r) => ({headers: {}, data: bytes(v: "...")}).',
            )
        names = universe()
        for name in _FN_PACKAGES:
            names[name] = package(name)
        scope = Scope(None, names)
        _check_node(self._interp, node, set(names))
        _check_static_data(self._interp, node)
        self._closure = Closure(node, scope, self._interp)
        params = [p.name for p in node.params]
        if len(params) < 1:
            raise self._interp.error(node, "a mapping function takes the row: (r) => ...")
        self._param = "r" if "r" in params else params[0]
        self.__name__ = "flux_fn"
        self.__qualname__ = "flux_fn"
        self.__doc__ = f"Flux function: {source}"

    def __call__(self, r: Mapping[Any, Any]) -> Any:
        """Evaluate the function for one row; returns plain Python (records become dicts)."""
        row = {str(k): from_python(v) for k, v in r.items()}
        record = self._closure(**{self._param: row})
        if isinstance(record, dict) and ("data" in record or "headers" in record):
            check_request(self._interp, self._closure, record)
        return to_python(record)

    def __repr__(self) -> str:
        return f"flux_fn({self.source!r})"


def _check_static_data(interp: Interpreter, node: ast.Function) -> None:
    """A string literal as ``data`` is a type error Flux reports before running."""
    body: Any = node.body
    if isinstance(body, ast.Block):
        body = next((s.value for s in body.body if isinstance(s, ast.Return)), None)
    if not isinstance(body, ast.Record):
        return
    for prop in body.properties:
        if prop.key == "data" and (
            isinstance(prop.value, ast.Interp)
            or (isinstance(prop.value, ast.Literal) and isinstance(prop.value.value, str))
        ):
            raise interp.error(
                prop.value,
                "expected bytes but found string for data",
                kind="type error",
                hint="The request body must be bytes: wrap it in bytes(v: ...), "
                "e.g. data: bytes(v: " + interp.source[prop.value.start : prop.value.end] + ").",
            )


def flux_fn(source: str, *, now: pd.Timestamp | None = None) -> FluxFunction:
    """Turn a Flux function literal into a Python callable that takes a row.

    The packages ``http``, ``json`` and ``strings`` are available without an import.

    Parameters
    ----------
    source : str
        A Flux function literal, e.g. ``(r) => ({headers: {...}, data: bytes(v: ...)})``.
    now : pandas.Timestamp, optional
        The value of ``now()``; default: the time of each call.

    Returns
    -------
    FluxFunction
        ``fn(row)`` returns the record as a dict (``bytes`` stay bytes, times are
        ``pandas.Timestamp``); ``fn.source`` is the Flux text.

    Raises
    ------
    FluxError
        Syntax errors, undefined identifiers, positional arguments and type errors found
        before running, with line:column and the offending text underlined. Errors found
        while running a row are FluxErrors too.

    Examples
    --------
    >>> fn = flux_fn('(r) => ({headers: {h: "1"}, data: bytes(v: "The value is ${r._value}")})')
    >>> fn({"_value": 10.92})
    {'headers': {'h': '1'}, 'data': b'The value is 10.92'}
    """
    return FluxFunction(source, now=now)


# programs ---------------------------------------------------------------------------------


@dataclass
class FluxResult:
    """What a Flux program produced: its named results (``yield``) as DataFrames."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame | None:
        """The single result, or None when there is none or several."""
        if len(self.tables) == 1:
            return next(iter(self.tables.values()))
        return None


def run_program(
    source: str,
    *,
    endpoint_options: dict[str, Any] | None = None,
    now: Callable[[], pd.Timestamp] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> FluxResult:
    """Run a small Flux program and return its results.

    Parameters
    ----------
    source : str
        The program: imports, ``option now = ...``, assignments, expression statements.
    endpoint_options : dict, optional
        Options for ``flux_magic.endpoint`` used by ``http.endpoint``/``http.post``. Default:
        Flux semantics (``sent_when="200"``, ``errors="raise"``: the first failure stops).
    now : callable, optional
        Supplies ``now()`` unless the program sets ``option now``.
    variables : mapping, optional
        Extra names visible to the program (e.g. DataFrames and strings from the notebook);
        the program's own assignments may shadow them.

    Raises
    ------
    FluxError
        With line:column and the offending text underlined.
    """
    interp = Interpreter(source, now=now)
    interp.is_program = True
    interp.endpoint_options = {
        "sent_when": "200",
        "errors": "raise",
        **(endpoint_options or {}),
    }
    program = parse_program(source)
    names = universe()
    for key, value in (variables or {}).items():
        names.setdefault(key, value if isinstance(value, pd.DataFrame) else from_python(value))
    outer = Scope(None, names)
    names = {}
    body = list(program.body)
    while body and isinstance(body[0], ast.Import):
        stmt = body.pop(0)
        assert isinstance(stmt, ast.Import)
        pkg = package(stmt.path)
        if pkg is None:
            raise interp.error(
                stmt,
                f'unknown package "{stmt.path}"',
                hint=f"flux_magic provides: {', '.join(sorted({*PACKAGES, *_stdlib.paths()}))}.",
            )
        names[stmt.alias or stmt.path.rsplit("/", 1)[-1]] = pkg
    # a package bound under another name (experimental/array as array) is not checked as the
    # package of that name
    renamed = {_USER + name for name, pkg in names.items() if pkg.name != name}
    _check_statements(interp, body, set(outer.names) | set(names) | renamed)
    scope = Scope(outer, names)
    interp.execute(body, scope)
    tables: dict[str, pd.DataFrame] = {}
    for name, frame in interp.results:
        if name in tables:
            raise FluxError(f"two results are named {name!r}; give each yield its own name")
        tables[name] = frame
    values = {k: v for k, v in scope.names.items() if not isinstance(v, Closure | Package)}
    return FluxResult(tables, values)
