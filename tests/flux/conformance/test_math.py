"""The ``math`` package: the docs' examples and the special cases they list (Go's)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flux_magic._flux._values import UInt

from .flux_eval import ev, fails

NAN = "math.NaN()"
INF = "math.mInf(sign: 1)"
NEG_INF = "math.mInf(sign: -1)"

EXAMPLES: list[tuple[str, Any]] = [
    ("math.abs(x: -1.22)", 1.22),
    ("math.sqrt(x: 4.0)", 2.0),
    ("math.pow(x: 2.0, y: 3.0)", 8.0),
    ("math.pow10(n: 3)", 1000.0),
    ("math.log(x: 3.14)", 1.144222799920162),
    ("math.log10(x: 3.14)", 0.4969296480732149),
    ("math.log1p(x: 0.56)", 0.44468582126144574),
    ("math.log2(x: 3.14)", 1.6507645591169022),
    ("math.logb(x: 3.14)", 1.0),
    ("math.mMax(x: 1.23, y: 4.56)", 4.56),
    ("math.mMin(x: 1.23, y: 4.56)", 1.23),
    ("math.mod(x: 4.56, y: 1.23)", 0.8699999999999997),
    ("math.mod(x: -7.0, y: 3.0)", -1.0),
    ("math.modf(f: 3.14)", {"int": 3.0, "frac": 0.14000000000000012}),
    ("math.nextafter(x: 1.23, y: 4.56)", 1.2300000000000002),
    ("math.remainder(x: 21.0, y: 4.0)", 1.0),
    ("math.round(x: 2.12)", 2.0),
    ("math.round(x: 2.5)", 3.0),
    ("math.round(x: -2.5)", -3.0),
    ("math.roundtoeven(x: 3.14)", 3.0),
    ("math.roundtoeven(x: 3.5)", 4.0),
    ("math.roundtoeven(x: 2.5)", 2.0),
    ("math.signbit(x: -1.2)", True),
    ("math.signbit(x: 1.2)", False),
    ("math.sin(x: 3.14)", 0.0015926529164868282),
    ("math.sincos(x: 1.23)", {"sin": 0.9424888019316975, "cos": 0.3342377271245026}),
    ("math.sinh(x: 1.23)", 1.564468479304407),
    ("math.ceil(x: 1.2)", 2.0),
    ("math.floor(x: 1.8)", 1.0),
    ("math.trunc(x: -1.8)", -1.0),
    ("math.cbrt(x: 27.0)", 3.0),
    ("math.exp2(x: 3.0)", 8.0),
    ("math.hypot(p: 3.0, q: 4.0)", 5.0),
    ("math.dim(x: 5.0, y: 3.0)", 2.0),
    ("math.dim(x: 3.0, y: 5.0)", 0.0),
    ("math.copysign(x: 3.2, y: -1.0)", -3.2),
    ("math.atan2(y: 1.0, x: 1.0)", math.pi / 4),
    ("math.frexp(f: 8.0)", {"frac": 0.5, "exp": 4}),
    ("math.ldexp(frac: 0.5, exp: 4)", 8.0),
    ("math.ilogb(x: 8.0)", 3),
    ("math.gamma(x: 5.0)", 24.0),
    ("math.erf(x: 0.0)", 0.0),
    ("math.erfinv(x: 0.0)", 0.0),
    ("math.float64bits(f: 1.0)", UInt(0x3FF0000000000000)),
    ("math.float64frombits(b: uint(v: 4607182418800017408))", 1.0),
    ("math.isNaN(f: math.NaN())", True),
    ("math.isNaN(f: 1.0)", False),
    ("math.isInf(f: math.mInf(sign: 1), sign: 1)", True),
    ("math.isInf(f: math.mInf(sign: -1), sign: 1)", False),
    ("math.isInf(f: math.mInf(sign: -1), sign: 0)", True),
]


@pytest.mark.parametrize(("expr", "expected"), EXAMPLES)
def test_examples(expr: str, expected: Any) -> None:
    result = ev(expr, "math")
    if isinstance(expected, float):
        assert result == pytest.approx(expected, rel=1e-15, abs=0)
    else:
        assert result == expected
    assert type(result) is type(expected)


def test_constants() -> None:
    assert ev("math.pi", "math") == math.pi
    assert ev("math.e", "math") == math.e
    assert ev("math.phi", "math") == pytest.approx(1.618033988749895)
    assert ev("math.sqrt2", "math") == math.sqrt(2)
    assert ev("math.ln2", "math") == math.log(2)
    assert ev("math.maxint", "math") == 9223372036854775807
    assert ev("math.minint", "math") == -9223372036854775808
    maxuint = ev("math.maxuint", "math")
    assert maxuint == 18446744073709551615
    assert isinstance(maxuint, UInt)
    assert ev("math.maxfloat", "math") == 1.7976931348623157e308
    assert ev("math.smallestNonzeroFloat", "math") == 5e-324


SPECIAL: list[tuple[str, float]] = [
    # outside the domain: NaN; poles and overflow: ±Inf (never an error)
    ("math.log(x: 0.0)", -math.inf),
    ("math.log(x: -1.0)", math.nan),
    (f"math.log(x: {INF})", math.inf),
    ("math.log1p(x: -1.0)", -math.inf),
    ("math.log1p(x: -2.0)", math.nan),
    ("math.log2(x: 0.0)", -math.inf),
    ("math.log10(x: -1.0)", math.nan),
    ("math.logb(x: 0.0)", -math.inf),
    (f"math.logb(x: {NEG_INF})", math.inf),
    ("math.sqrt(x: -1.0)", math.nan),
    ("math.acos(x: 2.0)", math.nan),
    ("math.exp(x: 1000.0)", math.inf),
    (f"math.mMax(x: 1.0, y: {INF})", math.inf),
    (f"math.mMax(x: 1.0, y: {NAN})", math.nan),
    (f"math.mMin(x: 1.0, y: {NEG_INF})", -math.inf),
    (f"math.mMin(x: {NAN}, y: 1.0)", math.nan),
    (f"math.mod(x: {INF}, y: 1.0)", math.nan),
    ("math.mod(x: 1.0, y: 0.0)", math.nan),
    (f"math.mod(x: 1.5, y: {INF})", 1.5),
    ("math.remainder(x: 1.0, y: 0.0)", math.nan),
    (f"math.remainder(x: 1.5, y: {INF})", 1.5),
    (f"math.pow(x: {NAN}, y: 0.0)", 1.0),
    (f"math.pow(x: 1.0, y: {NAN})", 1.0),
    ("math.pow(x: 0.0, y: -1.0)", math.inf),
    ("math.pow(x: -8.0, y: 0.5)", math.nan),
    (f"math.pow(x: 2.0, y: {NEG_INF})", 0.0),
    ("math.pow10(n: -324)", 0.0),
    ("math.pow10(n: 309)", math.inf),
    (f"math.round(x: {NAN})", math.nan),
    (f"math.round(x: {INF})", math.inf),
    (f"math.sin(x: {INF})", math.nan),
    ("math.gamma(x: -1.0)", math.nan),
    ("math.erfinv(x: 1.0)", math.inf),
    ("math.erfinv(x: 2.0)", math.nan),
]


@pytest.mark.parametrize(("expr", "expected"), SPECIAL)
def test_special_cases(expr: str, expected: float) -> None:
    result = ev(expr, "math")
    assert isinstance(result, float)
    if math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected


def test_lgamma_gives_the_logarithm_and_the_sign() -> None:
    result = ev("math.lgamma(x: 3.0)", "math")
    assert result["lgamma"] == pytest.approx(math.log(2.0), rel=1e-14)
    assert result["sign"] == 1
    assert ev("math.lgamma(x: -0.5)", "math")["sign"] == -1


def test_modf_of_infinity_and_ilogb_of_zero() -> None:
    result = ev(f"math.modf(f: {INF})", "math")
    assert result["int"] == math.inf
    assert math.isnan(result["frac"])
    assert ev("math.ilogb(x: 0.0)", "math") == -(2**31)


def test_erfinv_inverts_erf() -> None:
    assert ev("math.erf(x: math.erfinv(x: 0.3))", "math") == pytest.approx(0.3, rel=1e-15)
    assert ev("math.erfcinv(x: math.erfc(x: 0.7))", "math") == pytest.approx(0.7, rel=1e-14)


def test_math_in_map_over_sampledata() -> None:
    df = ev(
        "sampledata.float() |> map(fn: (r) => ({r with _value: math.abs(x: r._value)}))",
        "math",
        "sampledata",
    )
    assert df["_value"].tolist()[:2] == [2.18, 10.92]


def test_an_int_is_a_type_error() -> None:
    error = fails("math.sqrt(x: 4)", "math", match="expected float for argument x but found int")
    assert "4.0" in str(error)


def test_bessel_functions_are_not_provided() -> None:
    fails("math.j0(x: 1.0)", "math", match="package math has no member j0")


def test_using_math_without_the_import_says_which_import() -> None:
    from flux_magic._errors import FluxError
    from flux_magic._flux import run_program

    with pytest.raises(FluxError, match='Add `import "math"`'):
        run_program("x = math.sqrt(x: 2.0)\n")
