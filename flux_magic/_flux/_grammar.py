"""The Lark grammar of the Flux subset (LALR, contextual lexer).

Two lexer-level decisions keep the grammar LALR(1), as Flux's own parser decides them:

- ``FN_LPAREN`` is a ``(`` that opens a parameter list: it is followed by identifiers (with
  optional defaults) and ``) =>``. Any other ``(`` is a parenthesised expression or a call.
- ``ARROW_BLOCK`` is ``=>`` followed by ``{``: a function body block. To return a record
  directly, Flux needs parentheses: ``(r) => ({...})``.
- ``INDEX_LSQB`` is a ``[`` right after an operand on the same line: an index. A ``[`` that
  starts a line begins a new statement (an array), e.g. after ``option now = () => ...``.
  The lexer sees a plain ``[``; :mod:`._parser` retypes it from the text before it.
- ``/`` after an operand divides; where an operand is expected, ``/.../`` is a regular
  expression literal (the contextual lexer only offers the terminals a state accepts, and
  division outranks a regex where both could follow, e.g. before a new statement).
"""

from __future__ import annotations

__all__ = ["GRAMMAR"]

_PARAM = r"[A-Za-z_][A-Za-z0-9_]*\s*(?:=\s*(?:<-|[^(),]*?)\s*)?"
# "(" opens a parameter list when what follows is "name[=default], ...) =>".
_FN_LOOKAHEAD = rf"\s*(?:{_PARAM},\s*)*(?:{_PARAM})?\)\s*=>"

_GRAMMAR = r"""
program: statement*

?statement: import_stmt
          | option_stmt
          | assignment
          | return_stmt
          | expr                           -> expr_stmt

import_stmt: "import" IDENT? STRING
option_stmt: "option" IDENT "=" expr
           | "option" IDENT "." IDENT "=" expr   -> option_member
assignment: IDENT "=" expr
return_stmt: "return" expr

?expr: conditional

?conditional: logical_or
            | "if" expr "then" expr "else" expr          -> cond

?logical_or: logical_and
           | logical_or OR logical_and                   -> logical

?logical_and: unary_logical
            | logical_and AND unary_logical              -> logical

?unary_logical: comparison
              | NOT unary_logical                        -> not_
              | EXISTS unary_logical                     -> exists

?comparison: additive
           | comparison COMP_OP additive                 -> binary

?additive: multiplicative
         | additive ADD_OP multiplicative                -> binary

?multiplicative: pipe
               | multiplicative MUL_OP pipe              -> binary

?pipe: unary
     | pipe "|>" postfix                                 -> pipe

?unary: postfix
      | ADD_OP unary                                     -> unary

?postfix: primary
        | postfix "." IDENT                              -> member
        | postfix INDEX_LSQB expr "]"                    -> index
        | postfix LPAR arguments? ")"                    -> call

arguments: argument ("," argument)* ","?
argument: IDENT ":" expr                                 -> named_arg
        | expr                                           -> positional_arg

?primary: IDENT                                          -> ident
        | INT                                            -> int_lit
        | FLOAT                                          -> float_lit
        | STRING                                         -> string_lit
        | DURATION                                       -> duration_lit
        | TIME                                           -> time_lit
        | REGEX                                          -> regex_lit
        | "." IDENT                                      -> label_lit
        | "[" (expr ("," expr)* ","?)? "]"               -> array
        | record
        | function
        | LPAR expr ")"                                  -> paren

record: LBRACE "}"                                       -> record_empty
      | LBRACE properties "}"
      | LBRACE IDENT "with" properties "}"               -> record_with

properties: property ("," property)* ","?
property: IDENT ":" expr                                 -> property
        | STRING ":" expr                                -> string_property
        | IDENT                                          -> shorthand_property

function: FN_LPAREN parameters? ")" ARROW expr           -> function
        | FN_LPAREN parameters? ")" ARROW_BLOCK statement* "}"   -> function_block

parameters: parameter ("," parameter)* ","?
parameter: IDENT                                         -> param
         | IDENT "=" PIPE_RECEIVE                        -> param_pipe
         | IDENT "=" expr                                -> param_default

OR: "or"
AND: "and"
NOT: "not"
EXISTS: "exists"
COMP_OP: "==" | "!=" | "<=" | ">=" | "<" | ">" | "=~" | "!~"
ADD_OP: "+" | "-"
MUL_OP.2: "*" | "/" | "%" | "^"
PIPE_RECEIVE: "<-"
ARROW: "=>"
ARROW_BLOCK.3: /=>\s*\{/
LBRACE: "{"
INDEX_LSQB: /\x00\[/
LPAR: "("
FN_LPAREN.3: /\((?={FN_LOOKAHEAD})/

IDENT: /[A-Za-z_][A-Za-z0-9_]*/
TIME.5: /\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?/
DURATION.4: /(\d+(mo|ms|us|µs|ns|y|w|d|h|m|s))+/
FLOAT.3: /\d+\.\d*/
INT.2: /\d+/
STRING: /"(?:[^"\\$]|\\.|\$(?!\{)|\$\{(?:[^{}"]|"(?:[^"\\]|\\.)*"|\{[^{}]*\})*\})*"/

REGEX.1: /\/(?:[^\/\\\n]|\\.)+\//
COMMENT.3: /\/\/[^\n]*/
%ignore COMMENT
%import common.WS
%ignore WS
"""

GRAMMAR = _GRAMMAR.replace("{FN_LOOKAHEAD}", _FN_LOOKAHEAD)
