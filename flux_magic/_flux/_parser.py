"""Parse Flux source into the syntax tree of :mod:`flux_magic._flux._ast` (Lark, LALR)."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import lark
import pandas as pd
from lark import Token, Transformer, v_args

from flux_magic._errors import FluxError
from flux_magic._flux import _ast as ast
from flux_magic._flux._diagnostics import flux_error
from flux_magic._flux._grammar import GRAMMAR
from flux_magic._flux._values import compile_regexp, parse_duration

__all__ = ["parse_expression", "parse_program"]

_TOKEN_NAMES = {
    "RPAR": "')'",
    "LPAR": "'('",
    "FN_LPAREN": "'('",
    "RBRACE": "'}'",
    "LBRACE": "'{'",
    "RSQB": "']'",
    "LSQB": "'['",
    "INDEX_LSQB": "'['",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "EQUAL": "'='",
    "ARROW": "'=>'",
    "ARROW_BLOCK": "'=> {'",
    "IDENT": "an identifier",
    "STRING": "a string",
    "INT": "an integer",
    "FLOAT": "a float",
    "TIME": "a time",
    "DURATION": "a duration",
    "REGEX": "a regular expression",
    "COMP_OP": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*', '/', '%' or '^'",
    "$END": "the end of the input",
}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$"}


_KEYWORDS = frozenset({"and", "or", "not", "exists", "if", "then", "else", "return", "option"})
_OPERAND_END = frozenset(')]}"_/')
_text = threading.local()


def _retype_bracket(token: Token) -> Token:
    """A ``[`` right after an operand on the same line indexes it (``INDEX_LSQB``)."""
    text: str = getattr(_text, "value", "")
    i = int(token.start_pos or 0) - 1
    while i >= 0 and text[i] in " \t\r":
        i -= 1
    if i < 0 or text[i] == "\n":
        return token
    ch = text[i]
    if not (ch.isalnum() or ch in _OPERAND_END):
        return token
    if ch.isalpha():
        j = i
        while j >= 0 and (text[j].isalnum() or text[j] == "_"):
            j -= 1
        if text[j + 1 : i + 1] in _KEYWORDS:
            return token
    return Token.new_borrow_pos("INDEX_LSQB", str(token), token)


@cache
def _parser() -> lark.Lark:
    return lark.Lark(
        GRAMMAR,
        start=["program", "expr"],
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"LSQB": _retype_bracket},
    )


def _span(meta: Any) -> tuple[int, int]:
    if getattr(meta, "empty", True):
        return 0, 0
    return int(meta.start_pos), int(meta.end_pos)


def _tok(token: Token) -> tuple[int, int]:
    return int(token.start_pos or 0), int(token.end_pos or 0)


class _Builder(Transformer[Token, Any]):
    """Turn the Lark parse tree into :mod:`_ast` nodes; offsets are shifted by ``base``."""

    def __init__(self, source: str, base: int) -> None:
        super().__init__()
        self.source = source
        self.base = base

    def _s(self, meta: Any) -> tuple[int, int]:
        start, end = _span(meta)
        return start + self.base, end + self.base

    def _t(self, token: Token) -> tuple[int, int]:
        start, end = _tok(token)
        return start + self.base, end + self.base

    # statements ---------------------------------------------------------------------------
    @v_args(meta=True)
    def program(self, meta: Any, children: list[Any]) -> ast.Program:
        return ast.Program(*self._s(meta), list(children))

    @v_args(meta=True)
    def import_stmt(self, meta: Any, children: list[Any]) -> ast.Import:
        alias = str(children[0]) if len(children) == 2 else None
        path = self._string_text(children[-1])
        return ast.Import(*self._s(meta), path, alias)

    @v_args(meta=True)
    def option_stmt(self, meta: Any, children: list[Any]) -> ast.Option:
        return ast.Option(*self._s(meta), str(children[0]), children[1])

    @v_args(meta=True)
    def option_member(self, meta: Any, children: list[Any]) -> ast.Option:
        return ast.Option(*self._s(meta), str(children[1]), children[2], str(children[0]))

    @v_args(meta=True)
    def assignment(self, meta: Any, children: list[Any]) -> ast.Assign:
        return ast.Assign(*self._s(meta), str(children[0]), children[1])

    @v_args(meta=True)
    def return_stmt(self, meta: Any, children: list[Any]) -> ast.Return:
        return ast.Return(*self._s(meta), children[0])

    @v_args(meta=True)
    def expr_stmt(self, meta: Any, children: list[Any]) -> ast.ExprStmt:
        return ast.ExprStmt(*self._s(meta), children[0])

    # operators ----------------------------------------------------------------------------
    @v_args(meta=True)
    def cond(self, meta: Any, children: list[Any]) -> ast.Cond:
        return ast.Cond(*self._s(meta), *children)

    @v_args(meta=True)
    def logical(self, meta: Any, children: list[Any]) -> ast.Logical:
        return ast.Logical(*self._s(meta), str(children[1]), children[0], children[2])

    @v_args(meta=True)
    def not_(self, meta: Any, children: list[Any]) -> ast.Unary:
        return ast.Unary(*self._s(meta), "not", children[1])

    @v_args(meta=True)
    def exists(self, meta: Any, children: list[Any]) -> ast.Exists:
        return ast.Exists(*self._s(meta), children[1])

    @v_args(meta=True)
    def binary(self, meta: Any, children: list[Any]) -> ast.Binary:
        return ast.Binary(*self._s(meta), str(children[1]), children[0], children[2])

    @v_args(meta=True)
    def unary(self, meta: Any, children: list[Any]) -> ast.Unary:
        return ast.Unary(*self._s(meta), str(children[0]), children[1])

    @v_args(meta=True)
    def pipe(self, meta: Any, children: list[Any]) -> ast.Pipe:
        value, call = children
        if not isinstance(call, ast.Call):
            raise flux_error(
                self.source,
                call.start,
                call.end,
                "the right side of |> must be a function call",
                hint="Write e.g. `data |> limit(n: 3)`; the piped value fills the <- parameter.",
            )
        return ast.Pipe(*self._s(meta), value, call)

    # postfix ------------------------------------------------------------------------------
    @v_args(meta=True)
    def member(self, meta: Any, children: list[Any]) -> ast.Member:
        return ast.Member(*self._s(meta), children[0], str(children[1]))

    @v_args(meta=True)
    def index(self, meta: Any, children: list[Any]) -> ast.Index:
        return ast.Index(*self._s(meta), children[0], children[-1])

    @v_args(meta=True)
    def call(self, meta: Any, children: list[Any]) -> ast.Call:
        callee, lpar, *rest = children
        args: list[ast.Arg] = rest[0] if rest else []
        return ast.Call(*self._s(meta), callee, args, self._t(lpar)[0])

    def arguments(self, children: list[Any]) -> list[ast.Arg]:
        return list(children)

    @v_args(meta=True)
    def named_arg(self, meta: Any, children: list[Any]) -> ast.Arg:
        return ast.Arg(*self._s(meta), str(children[0]), children[1])

    @v_args(meta=True)
    def positional_arg(self, meta: Any, children: list[Any]) -> ast.Arg:
        value = children[0]
        if isinstance(value, ast.Ident):  # Flux shorthand: f(v) means f(v: v)
            return ast.Arg(*self._s(meta), value.name, value)
        return ast.Arg(*self._s(meta), None, value)

    # primaries ----------------------------------------------------------------------------
    def ident(self, children: list[Any]) -> ast.Ident:
        token = children[0]
        return ast.Ident(*self._t(token), str(token))

    def int_lit(self, children: list[Any]) -> ast.Literal:
        token = children[0]
        value = int(token)
        if value >= 2**63:
            start, end = self._t(token)
            raise flux_error(self.source, start, end, f"integer literal {token} overflows int")
        return ast.Literal(*self._t(token), value)

    def float_lit(self, children: list[Any]) -> ast.Literal:
        token = children[0]
        return ast.Literal(*self._t(token), float(token))

    def duration_lit(self, children: list[Any]) -> ast.Literal:
        token = children[0]
        return ast.Literal(*self._t(token), parse_duration(str(token)))

    def time_lit(self, children: list[Any]) -> ast.Literal:
        token = children[0]
        try:
            stamp = pd.Timestamp(str(token))
        except ValueError as exc:
            start, end = self._t(token)
            raise flux_error(self.source, start, end, f"invalid time literal: {exc}") from exc
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return ast.Literal(*self._t(token), stamp.as_unit("ns"))

    def regex_lit(self, children: list[Any]) -> ast.Literal:
        token = children[0]
        start, end = self._t(token)
        pattern = str(token)[1:-1].replace("\\/", "/")
        try:
            compiled = compile_regexp(pattern)
        except ValueError as exc:
            raise flux_error(self.source, start, end, str(exc)) from None
        return ast.Literal(start, end, compiled)

    @v_args(meta=True)
    def label_lit(self, meta: Any, children: list[Any]) -> ast.Literal:
        return ast.Literal(*self._s(meta), str(children[-1]))

    def string_lit(self, children: list[Any]) -> ast.Expr:
        return self._string(children[0])

    @v_args(meta=True)
    def array(self, meta: Any, children: list[Any]) -> ast.Array:
        return ast.Array(*self._s(meta), list(children))

    def paren(self, children: list[Any]) -> Any:
        return children[1]

    @v_args(meta=True)
    def record_empty(self, meta: Any, children: list[Any]) -> ast.Record:
        return ast.Record(*self._s(meta), [])

    @v_args(meta=True)
    def record(self, meta: Any, children: list[Any]) -> ast.Record:
        return ast.Record(*self._s(meta), children[1])

    @v_args(meta=True)
    def record_with(self, meta: Any, children: list[Any]) -> ast.Record:
        base = children[1]
        return ast.Record(*self._s(meta), children[2], ast.Ident(*self._t(base), str(base)))

    def properties(self, children: list[Any]) -> list[ast.Property]:
        return list(children)

    @v_args(meta=True)
    def property(self, meta: Any, children: list[Any]) -> ast.Property:
        return ast.Property(*self._s(meta), str(children[0]), children[1])

    @v_args(meta=True)
    def string_property(self, meta: Any, children: list[Any]) -> ast.Property:
        return ast.Property(*self._s(meta), self._string_text(children[0]), children[1])

    @v_args(meta=True)
    def shorthand_property(self, meta: Any, children: list[Any]) -> ast.Property:
        token = children[0]
        return ast.Property(*self._s(meta), str(token), ast.Ident(*self._t(token), str(token)))

    @v_args(meta=True)
    def function(self, meta: Any, children: list[Any]) -> ast.Function:
        params = children[1] if isinstance(children[1], list) else []
        return ast.Function(*self._s(meta), params, children[-1])

    @v_args(meta=True)
    def function_block(self, meta: Any, children: list[Any]) -> ast.Function:
        params: list[ast.Param] = []
        rest = children[1:]
        if rest and isinstance(rest[0], list):
            params = rest[0]
            rest = rest[1:]
        arrow = rest[0]
        body = rest[1:]
        start, end = self._s(meta)
        return ast.Function(start, end, params, ast.Block(self._t(arrow)[0], end, body))

    def parameters(self, children: list[Any]) -> list[ast.Param]:
        return list(children)

    def param(self, children: list[Any]) -> ast.Param:
        return ast.Param(*self._t(children[0]), str(children[0]))

    def param_pipe(self, children: list[Any]) -> ast.Param:
        name, arrow = children
        start, _ = self._t(name)
        _, end = self._t(arrow)
        return ast.Param(start, end, str(name), ast.PipeLiteral(*self._t(arrow)))

    def param_default(self, children: list[Any]) -> ast.Param:
        name, value = children
        return ast.Param(self._t(name)[0], value.end, str(name), value)

    # strings ------------------------------------------------------------------------------
    def _string_text(self, token: Token) -> str:
        node = self._string(token)
        if isinstance(node, ast.Literal):
            return str(node.value)
        start, end = self._t(token)
        raise flux_error(self.source, start, end, "interpolation is not allowed here")

    def _string(self, token: Token) -> ast.Expr:
        start, end = self._t(token)
        raw = str(token)[1:-1]
        parts: list[str | ast.Expr] = []
        text = _Text(self.source, start + 1)
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                if nxt == "x":
                    digits = raw[i + 2 : i + 4]
                    if len(digits) != 2 or not all(c in _HEX for c in digits):
                        at = start + 1 + i
                        raise flux_error(
                            self.source, at, at + 2 + len(digits), "invalid byte value"
                        )
                    text.append_byte(int(digits, 16), i)
                    i += 4
                    continue
                if nxt not in _ESCAPES:
                    at = start + 1 + i
                    raise flux_error(
                        self.source, at, at + 2, f"invalid escape sequence \\{nxt} in string"
                    )
                text.append(_ESCAPES[nxt])
                i += 2
                continue
            if ch == "$" and raw.startswith("${", i):
                close = _matching_brace(raw, i + 1)
                inner_start = start + 1 + i + 2
                inner = raw[i + 2 : close]
                if text:
                    parts.append(text.take())
                parts.append(_parse(self.source, inner, inner_start, "expr"))
                i = close + 1
                continue
            text.append(ch)
            i += 1
        if text or not parts:
            parts.append(text.take())
        if len(parts) == 1 and isinstance(parts[0], str):
            return ast.Literal(start, end, parts[0])
        return ast.Interp(start, end, parts)


_HEX = frozenset("0123456789abcdefABCDEF")


class _Text:
    """The text of a string literal, kept as UTF-8 bytes: ``\\xNN`` escapes are bytes."""

    def __init__(self, source: str, base: int) -> None:
        self.source = source
        self.base = base
        self.data = bytearray()
        self.first = 0

    def __bool__(self) -> bool:
        return bool(self.data)

    def append(self, text: str) -> None:
        self.data += text.encode("utf-8", "surrogatepass")

    def append_byte(self, byte: int, at: int) -> None:
        if not self.data:
            self.first = at
        self.data.append(byte)

    def take(self) -> str:
        """The text so far, which must be valid UTF-8; starts a new part."""
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError:
            at = self.base + self.first
            raise flux_error(
                self.source, at, at + 4, "invalid UTF-8 encoding in string literal"
            ) from None
        self.data = bytearray()
        return text


def _matching_brace(raw: str, open_at: int) -> int:
    depth = 0
    i = open_at
    in_string = False
    while i < len(raw):
        ch = raw[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(raw)


def _expected(names: set[str]) -> str:
    readable = sorted({_TOKEN_NAMES.get(n, repr(n.lower())) for n in names if n})
    if len(readable) > 6:
        readable = [*readable[:6], "..."]
    return ", ".join(readable)


def _parse(source: str, text: str, base: int, start: str) -> Any:
    _text.value = text
    try:
        tree = _parser().parse(text, start=start)
    except lark.exceptions.UnexpectedCharacters as exc:
        pos = int(exc.pos_in_stream or 0)
        at = base + pos
        char = text[pos] if pos < len(text) else ""
        raise flux_error(source, at, at + 1, f"invalid character {char!r}") from None
    except lark.exceptions.UnexpectedEOF as exc:
        at = base + len(text.rstrip())
        raise flux_error(
            source, at, at, f"unexpected end of input; expected {_expected(set(exc.expected))}"
        ) from None
    except lark.exceptions.UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            at = base + len(text.rstrip())
            raise flux_error(
                source, at, at, f"unexpected end of input; expected {_expected(exc.expected)}"
            ) from None
        tok_start, tok_end = _tok(token)
        raise flux_error(
            source,
            base + tok_start,
            base + tok_end,
            f"unexpected token {str(token)!r}; expected {_expected(exc.expected)}",
        ) from None
    try:
        return _Builder(source, base).transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, FluxError):
            raise exc.orig_exc from None
        raise


def parse_program(source: str) -> ast.Program:
    """Parse a Flux program (imports, options, assignments, expression statements)."""
    result: ast.Program = _parse(source, source, 0, "program")
    return result


def parse_expression(source: str) -> ast.Expr:
    """Parse one Flux expression, such as a function literal ``(r) => ({...})``."""
    result: ast.Expr = _parse(source, source, 0, "expr")
    return result
