"""filter/map over whole columns give exactly the row-by-row interpreter's results."""

from __future__ import annotations

import pandas as pd
import pytest

from flux_magic._errors import FluxError
from flux_magic._flux import _vectorize, run_program

PROGRAMS = [
    "sampledata.int() |> filter(fn: (r) => r._value > 5)",
    'sampledata.int(includeNull: true) |> filter(fn: (r) => r._value > 5 or r.tag == "t2")',
    "sampledata.int(includeNull: true) |> filter(fn: (r) => not (r._value > 0 and true))",
    "sampledata.int(includeNull: true) |> filter(fn: (r) => exists r._value)",
    "sampledata.float() |> filter(fn: (r) => r._value >= 10 and r.tag =~ /1$/)",
    "sampledata.float(includeNull: true) |> filter(fn: (r) => r._value < 5.0)",
    'sampledata.string() |> filter(fn: (r) => r._value > "smpl_m")',
    "sampledata.bool(includeNull: true) |> filter(fn: (r) => r._value)",
    "sampledata.int() |> filter(fn: (r) => r._time >= 2021-01-01T00:00:20Z)",
    "sampledata.int() |> map(fn: (r) => ({r with _value: r._value * 2 - 1}))",
    "sampledata.int(includeNull: true)"
    " |> map(fn: (r) => ({r with v: r._value / 3, m: r._value % 4}))",
    "sampledata.int() |> map(fn: (r) => ({_time: r._time, x: float(v: r._value) / 2.0}))",
    "sampledata.float(includeNull: true)"
    " |> map(fn: (r) => ({r with neg: -r._value, e: exists r._value}))",
    'sampledata.float() |> map(fn: (r) => ({r with s: "${r.tag}: ${r._value} at ${r._time}"}))',
    "sampledata.float() |> map(fn: (r) => ({r with i: int(v: r._value), s: string(v: r._value)}))",
    'sampledata.int() |> map(fn: (r) => ({r with big: if r._value > 10 then "big" else "small"}))',
    "sampledata.uint() |> map(fn: (r) => ({r with u: r._value + uint(v: 1)}))",
    'sampledata.string() |> map(fn: (r) => ({r with s: r._value + "!"}))',
    "sampledata.int() |> map(fn: (r) => { x = r._value + 1\n return {r with x: x} })",
    "sampledata.float() |> map(fn: (r) => ({r with n: r._value / 0.0}))",
    "sampledata.int() |> map(fn: (r) => ({r with n: 9223372036854775000 - r._value}))",
]


def _run(program: str, enabled: bool, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    monkeypatch.setattr(_vectorize, "ENABLED", enabled)
    frame = run_program('import "sampledata"\n' + program).frame()
    assert frame is not None
    return frame


@pytest.mark.parametrize("program", PROGRAMS)
def test_same_result_as_row_by_row(program: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _run(program, True, monkeypatch)
    slow = _run(program, False, monkeypatch)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.attrs == slow.attrs


def test_the_common_functions_are_vectorised(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    for name in ("predicate", "mapping"):
        original = getattr(_vectorize, name)

        def spy(fn: object, df: pd.DataFrame, _o: object = original, _n: str = name) -> object:
            result = _o(fn, df)  # type: ignore[operator]
            used.append(f"{_n}:{result is not None}")
            return result

        monkeypatch.setattr(_vectorize, name, spy)
    run_program(
        'import "sampledata"\nsampledata.float() |> filter(fn: (r) => r._value > 0.0 '
        'and r.tag == "t1") |> map(fn: (r) => ({r with x: r._value * 2.0, s: "v=${r._value}"}))'
    )
    assert used == ["predicate:True", "mapping:True"]


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ("sampledata.int() |> map(fn: (r) => ({r with x: r._value + 1.0}))", "expected int"),
        ("sampledata.int() |> map(fn: (r) => ({r with x: r._value / 0}))", "divide by zero"),
        (
            'sampledata.int(includeNull: true) |> map(fn: (r) => ({r with s: "${r._value}"}))',
            "null value",
        ),
        ("sampledata.int() |> filter(fn: (r) => r._value)", "must return a bool"),
    ],
)
def test_errors_are_the_interpreters(program: str, message: str) -> None:
    with pytest.raises(FluxError, match=message):
        run_program('import "sampledata"\n' + program)
