"""The Flux syntax tree: one small dataclass per construct, each with its source span."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Arg",
    "Array",
    "Assign",
    "Binary",
    "Block",
    "Call",
    "Cond",
    "Exists",
    "Expr",
    "ExprStmt",
    "Function",
    "Ident",
    "Import",
    "Index",
    "Interp",
    "Literal",
    "Logical",
    "Member",
    "Node",
    "Option",
    "Param",
    "Pipe",
    "PipeLiteral",
    "Program",
    "Property",
    "Record",
    "Return",
    "Stmt",
    "Unary",
]


@dataclass
class Node:
    """Base of every node: ``start``/``end`` are character offsets into the source."""

    start: int
    end: int


class Expr(Node):
    """An expression."""


class Stmt(Node):
    """A statement."""


@dataclass
class Ident(Expr):
    name: str


@dataclass
class Literal(Expr):
    value: Any


@dataclass
class PipeLiteral(Expr):
    """``<-`` as a parameter default: the parameter receives the piped-forward value."""


@dataclass
class Interp(Expr):
    """A string with ``${...}`` interpolation: text parts and expressions, in order."""

    parts: list[str | Expr]


@dataclass
class Array(Expr):
    items: list[Expr]


@dataclass
class Property(Node):
    key: str
    value: Expr


@dataclass
class Record(Expr):
    properties: list[Property]
    base: Expr | None = None


@dataclass
class Param(Node):
    name: str
    default: Expr | None = None


@dataclass
class Block(Node):
    body: list[Stmt]


@dataclass
class Function(Expr):
    params: list[Param]
    body: Expr | Block


@dataclass
class Member(Expr):
    obj: Expr
    name: str


@dataclass
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass
class Arg(Node):
    """One call argument; ``name`` is None for a positional argument (an error in Flux)."""

    name: str | None
    value: Expr


@dataclass
class Call(Expr):
    callee: Expr
    args: list[Arg]
    open_paren: int = 0


@dataclass
class Pipe(Expr):
    value: Expr
    call: Call


@dataclass
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class Logical(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass
class Unary(Expr):
    op: str
    operand: Expr


@dataclass
class Exists(Expr):
    operand: Expr


@dataclass
class Cond(Expr):
    test: Expr
    then: Expr
    otherwise: Expr


@dataclass
class Import(Stmt):
    path: str
    alias: str | None = None


@dataclass
class Option(Stmt):
    name: str
    value: Expr
    package: str | None = None


@dataclass
class Assign(Stmt):
    name: str
    value: Expr


@dataclass
class Return(Stmt):
    value: Expr


@dataclass
class ExprStmt(Stmt):
    expr: Expr


@dataclass
class Program(Node):
    body: list[Stmt] = field(default_factory=list)
