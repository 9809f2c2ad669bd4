"""Flux's ``math`` package: Go's ``math`` functions and constants on Flux floats.

Go's special cases are kept: a result outside a function's domain is NaN and an overflow is
±Inf (never a Python exception), ``round`` rounds half away from zero, ``mod`` keeps the sign
of ``x``. Not provided: the Bessel functions (``j0``, ``j1``, ``jn``, ``y0``, ``y1``, ``yn``).
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._interpreter import Builtin
from flux_magic._flux._values import UInt

PATH = "math"

_PHI = (1 + math.sqrt(5)) / 2
_CONSTANTS: dict[str, Any] = {
    "pi": math.pi,
    "e": math.e,
    "phi": _PHI,
    "sqrt2": math.sqrt(2),
    "sqrte": math.sqrt(math.e),
    "sqrtpi": math.sqrt(math.pi),
    "sqrtphi": math.sqrt(_PHI),
    "ln2": math.log(2),
    "log2e": 1 / math.log(2),
    "ln10": math.log(10),
    "log10e": 1 / math.log(10),
    "maxfloat": sys.float_info.max,
    "smallestNonzeroFloat": 5e-324,
    "maxint": 2**63 - 1,
    "minint": -(2**63),
    "maxuint": UInt(2**64 - 1),
}


def _float(value: Any, param: str, fn: str) -> float:
    result: float = expect(
        value,
        param,
        f"math.{fn}",
        "float",
        hint="Flux never converts numbers implicitly: write 4.0, or float(v: ...).",
    )
    return result


def _int(value: Any, param: str, fn: str) -> int:
    result: int = expect(value, param, f"math.{fn}", "int")
    return result


def _numpy(op: Callable[..., Any]) -> Callable[..., float]:
    """A numpy ufunc on floats, NaN/±Inf instead of warnings (Go's special cases)."""

    def apply(*args: float) -> float:
        with np.errstate(all="ignore"):
            return float(op(*args))

    return apply


def _round(x: float) -> float:
    """Go's ``math.Round``: half away from zero."""
    if math.isnan(x) or math.isinf(x):
        return x
    t = float(math.trunc(x))
    if abs(x - t) >= 0.5:
        t += math.copysign(1.0, x)
    return math.copysign(t, x)


def _gamma(x: float) -> float:
    if x == 0:
        return math.copysign(math.inf, x)
    if math.isinf(x):
        return math.inf if x > 0 else math.nan
    if x < 0 and x == math.floor(x):
        return math.nan
    try:
        return math.gamma(x)
    except OverflowError:
        return math.inf


def _lgamma(x: float) -> dict[str, Any]:
    if math.isnan(x):
        return {"lgamma": x, "sign": 1}
    if math.isinf(x) or (x <= 0 and x == math.floor(x)):
        return {"lgamma": math.inf, "sign": 1}
    sign = -1 if x < 0 and math.floor(x) % 2 != 0 else 1
    return {"lgamma": math.lgamma(x), "sign": sign}


def _erfinv(x: float) -> float:
    """Inverse of erf: Giles' approximation refined by Newton steps on ``math.erf``."""
    if math.isnan(x) or abs(x) > 1:
        return math.nan
    if abs(x) == 1:
        return math.copysign(math.inf, x)
    if x == 0:
        return x
    w = -math.log((1 - x) * (1 + x))
    if w < 5:
        w -= 2.5
        p = 2.81022636e-08
        for c in (
            3.43273939e-07,
            -3.5233877e-06,
            -4.39150654e-06,
            0.00021858087,
            -0.00125372503,
            -0.00417768164,
            0.246640727,
            1.50140941,
        ):
            p = c + p * w
    else:
        w = math.sqrt(w) - 3
        p = -0.000200214257
        for c in (
            0.000100950558,
            0.00134934322,
            -0.00367342844,
            0.00573950773,
            -0.0076224613,
            0.00943887047,
            1.00167406,
            2.83297682,
        ):
            p = c + p * w
    y = p * x
    for _ in range(3):
        error = math.erf(y) - x
        if error == 0:
            break
        y -= error / (2 / math.sqrt(math.pi) * math.exp(-y * y))
    return y


def _frexp(f: float) -> dict[str, Any]:
    if math.isnan(f) or math.isinf(f):
        return {"frac": f, "exp": 0}
    frac, exp = math.frexp(f)
    return {"frac": frac, "exp": exp}


def _ilogb(x: float) -> int:
    if x == 0:
        return -(2**31)
    if math.isnan(x) or math.isinf(x):
        return 2**31 - 1
    return math.frexp(x)[1] - 1


def _logb(x: float) -> float:
    if x == 0:
        return -math.inf
    if math.isinf(x):
        return math.inf
    if math.isnan(x):
        return x
    return float(math.frexp(x)[1] - 1)


def _max(x: float, y: float) -> float:
    if math.inf in (x, y):
        return math.inf
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x == 0 and y == 0:
        return x if not math.copysign(1, x) < 0 else y
    return max(x, y)


def _min(x: float, y: float) -> float:
    if -math.inf in (x, y):
        return -math.inf
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if x == 0 and y == 0:
        return x if math.copysign(1, x) < 0 else y
    return min(x, y)


def _dim(x: float, y: float) -> float:
    v = _numpy(np.subtract)(x, y)
    return v if math.isnan(v) or v > 0 else 0.0


def _modf(f: float) -> dict[str, float]:
    if math.isinf(f):
        return {"int": f, "frac": math.nan}
    frac, whole = math.modf(f)
    return {"int": whole, "frac": frac}


def _remainder(x: float, y: float) -> float:
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or y == 0:
        return math.nan
    return math.remainder(x, y)


def _pow10(n: int) -> float:
    if n < -323:
        return 0.0
    if n > 308:
        return math.inf
    return float(10.0**n)


def _unary(name: str, op: Callable[[float], Any], param: str = "x") -> Builtin:
    def impl(interp: Any, **args: Any) -> Any:
        return op(_float(args[param], param, name))

    return builtin(f"math.{name}", param, impl, example=f"math.{name}({param}: 2.0)")


def _binary(name: str, first: str, second: str, op: Callable[[float, float], Any]) -> Builtin:
    def impl(interp: Any, **args: Any) -> Any:
        return op(_float(args[first], first, name), _float(args[second], second, name))

    return builtin(
        f"math.{name}",
        f"{first}, {second}",
        impl,
        example=f"math.{name}({first}: 2.0, {second}: 3.0)",
    )


def _is_inf(interp: Any, f: Any, sign: Any) -> bool:
    value = _float(f, "f", "isInf")
    direction = _int(sign, "sign", "isInf")
    if direction > 0:
        return value == math.inf
    if direction < 0:
        return value == -math.inf
    return math.isinf(value)


def _ldexp(interp: Any, frac: Any, exp: Any) -> float:
    value = _float(frac, "frac", "ldexp")
    try:
        return math.ldexp(value, _int(exp, "exp", "ldexp"))
    except OverflowError:
        return math.copysign(math.inf, value)


def _float64frombits(interp: Any, b: Any) -> float:
    bits = expect(b, "b", "math.float64frombits", "uint")
    result: float = struct.unpack("<d", struct.pack("<Q", int(bits)))[0]
    return result


def _nan(interp: Any) -> float:
    return math.nan


def _m_inf(interp: Any, sign: Any) -> float:
    return math.inf if _int(sign, "sign", "mInf") >= 0 else -math.inf


def _pow10_builtin(interp: Any, n: Any) -> float:
    return _pow10(_int(n, "n", "pow10"))


def members() -> dict[str, Any]:
    """The package's names."""
    unary: dict[str, Callable[[float], Any]] = {
        "abs": abs,
        "acos": _numpy(np.arccos),
        "acosh": _numpy(np.arccosh),
        "asin": _numpy(np.arcsin),
        "asinh": _numpy(np.arcsinh),
        "atan": _numpy(np.arctan),
        "atanh": _numpy(np.arctanh),
        "cbrt": _numpy(np.cbrt),
        "ceil": _numpy(np.ceil),
        "cos": _numpy(np.cos),
        "cosh": _numpy(np.cosh),
        "erf": math.erf,
        "erfc": math.erfc,
        "erfinv": _erfinv,
        "erfcinv": lambda x: _erfinv(1 - x),
        "exp": _numpy(np.exp),
        "exp2": _numpy(np.exp2),
        "expm1": _numpy(np.expm1),
        "floor": _numpy(np.floor),
        "gamma": _gamma,
        "ilogb": _ilogb,
        "log": _numpy(np.log),
        "log10": _numpy(np.log10),
        "log1p": _numpy(np.log1p),
        "log2": _numpy(np.log2),
        "logb": _logb,
        "round": _round,
        "roundtoeven": _numpy(np.rint),
        "signbit": lambda x: math.copysign(1.0, x) < 0,
        "sin": _numpy(np.sin),
        "sinh": _numpy(np.sinh),
        "sqrt": _numpy(np.sqrt),
        "tan": _numpy(np.tan),
        "tanh": _numpy(np.tanh),
        "trunc": _numpy(np.trunc),
    }
    names: dict[str, Any] = dict(_CONSTANTS)
    names.update({name: _unary(name, op) for name, op in unary.items()})
    names.update(
        {
            "atan2": _binary("atan2", "y", "x", _numpy(np.arctan2)),
            "copysign": _binary("copysign", "x", "y", math.copysign),
            "dim": _binary("dim", "x", "y", _dim),
            "hypot": _binary("hypot", "p", "q", _numpy(np.hypot)),
            "mMax": _binary("mMax", "x", "y", _max),
            "mMin": _binary("mMin", "x", "y", _min),
            "mod": _binary("mod", "x", "y", _numpy(np.fmod)),
            "nextafter": _binary("nextafter", "x", "y", math.nextafter),
            "pow": _binary("pow", "x", "y", _numpy(np.power)),
            "remainder": _binary("remainder", "x", "y", _remainder),
            "frexp": _unary("frexp", _frexp, "f"),
            "isNaN": _unary("isNaN", math.isnan, "f"),
            "lgamma": _unary("lgamma", _lgamma),
            "modf": _unary("modf", _modf, "f"),
            "sincos": _unary(
                "sincos", lambda x: {"sin": _numpy(np.sin)(x), "cos": _numpy(np.cos)(x)}
            ),
            "float64bits": _unary(
                "float64bits", lambda f: UInt(struct.unpack("<Q", struct.pack("<d", f))[0]), "f"
            ),
            "float64frombits": builtin("math.float64frombits", "b", _float64frombits),
            "isInf": builtin("math.isInf", "f, sign", _is_inf, example="math.isInf(f: x, sign: 0)"),
            "ldexp": builtin("math.ldexp", "frac, exp", _ldexp),
            "mInf": builtin("math.mInf", "sign", _m_inf, example="math.mInf(sign: 1)"),
            "NaN": builtin("math.NaN", "", _nan),
            "pow10": builtin("math.pow10", "n", _pow10_builtin, example="math.pow10(n: 3)"),
        }
    )
    return names
