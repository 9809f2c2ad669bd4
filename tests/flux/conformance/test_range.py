"""range(): bounds as times, durations relative to now(), Unix seconds; _start/_stop in the key.

Expected values from Flux's docs: range() keeps rows with ``_start <= _time < _stop``, stop
defaults to now(), and adds ``_start``/``_stop`` (the bounds) to every table and its group key.
"""

from __future__ import annotations

import pandas as pd
import pytest

from flux_magic._errors import FluxError

from .tables import INT_T1, INT_T2, at, columns, key, run, value


def test_time_bounds_keep_start_and_drop_stop() -> None:
    df = run("sampledata.int() |> range(start: 2021-01-01T00:00:10Z, stop: 2021-01-01T00:00:40Z)")
    assert df["_value"].tolist() == INT_T1[1:4] + INT_T2[1:4]
    assert df["_time"].tolist() == at(10, 20, 30) * 2
    assert columns(df) == ["_start", "_stop", "_time", "_value", "tag"]
    assert key(df) == ["_start", "_stop", "tag"]
    assert df["_start"].unique().tolist() == at(10)
    assert df["_stop"].unique().tolist() == at(40)


def test_sampledata_bounds_keep_every_row() -> None:
    df = run("sampledata.int() |> range(start: sampledata.start, stop: sampledata.stop)")
    assert df["_value"].tolist() == INT_T1 + INT_T2
    assert value("x = sampledata.start", "sampledata") == pd.Timestamp("2021-01-01T00:00:00Z")
    assert value("x = sampledata.stop", "sampledata") == pd.Timestamp("2021-01-01T00:01:00Z")


def test_durations_are_relative_to_now_and_stop_defaults_to_now() -> None:
    df = run("option now = () => 2021-01-01T00:00:45Z\nsampledata.int() |> range(start: -20s)")
    assert df["_time"].tolist() == at(30, 40) * 2
    assert df["_stop"].unique().tolist() == at(45)
    df = run(
        "option now = () => 2021-01-01T00:01:00Z\nsampledata.int() |> range(start: -1m, stop: -30s)"
    )
    assert df["_time"].tolist() == at(0, 10, 20) * 2


def test_integers_are_unix_seconds() -> None:
    df = run("sampledata.int() |> range(start: 1609459220, stop: 1609459230)")
    assert df["_time"].tolist() == at(20) * 2


def test_an_empty_range_keeps_nothing() -> None:
    df = run("sampledata.int() |> range(start: 2022-01-01T00:00:00Z)")
    assert len(df) == 0


def test_range_then_filter_group_and_aggregate() -> None:
    df = run(
        "sampledata.int()\n"
        "    |> range(start: sampledata.start, stop: sampledata.stop)\n"
        "    |> filter(fn: (r) => r._value > 5)\n"
        "    |> group()\n"
        "    |> sum()"
    )
    assert df["_value"].tolist() == [10 + 7 + 17 + 15 + 19 + 19 + 13]
    assert key(df) == []


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ('sampledata.int() |> range(start: "-1h")', "expected time or duration or int"),
        (
            'sampledata.int() |> drop(columns: ["_time"]) |> range(start: 0)',
            "range error: supplied time column _time doesn't exist",
        ),
        ("sampledata.int() |> range()", "missing required argument start"),
    ],
)
def test_range_errors(program: str, message: str) -> None:
    with pytest.raises(FluxError, match=message):
        run(program)


def test_a_second_range_narrows_the_bounds_to_their_intersection() -> None:
    df = run(
        "sampledata.int()\n"
        "    |> range(start: 2021-01-01T00:00:00Z, stop: 2021-01-01T00:00:40Z)\n"
        "    |> range(start: 2021-01-01T00:00:20Z, stop: 2021-01-01T00:01:00Z)"
    )
    assert df["_time"].tolist() == at(20, 30) * 2
    assert df["_start"].unique().tolist() == at(20)
    assert df["_stop"].unique().tolist() == at(40)
    assert key(df) == ["_start", "_stop", "tag"]


RANGED = "sampledata.float() |> range(start: sampledata.start, stop: sampledata.stop)"


def test_aggregate_window_mean_per_20s_window() -> None:
    df = run(f"{RANGED} |> aggregateWindow(every: 20s, fn: mean)")
    assert [round(v, 10) for v in df["_value"]] == [4.37, 12.44, 9.83, 12.41, 8.01, 7.86]
    assert df["_time"].tolist() == at(20, 40, 60) * 2
    assert df["_start"].unique().tolist() == at(0)
    assert df["_stop"].unique().tolist() == at(60)
    assert key(df) == ["_start", "_stop", "tag"]
    assert set(columns(df)) == {"_start", "_stop", "tag", "_value", "_time"}


def test_aggregate_window_with_a_selector_or_a_function_literal() -> None:
    expected = [10.92, 17.53, 15.23, 19.85, 19.77, 13.86]
    df = run(f"{RANGED} |> aggregateWindow(every: 20s, fn: max)")
    assert df["_value"].tolist() == expected
    df = run(
        f"{RANGED} |> aggregateWindow(every: 20s, "
        "fn: (column, tables=<-) => tables |> max(column: column))"
    )
    assert df["_value"].tolist() == expected
    assert df["_time"].tolist() == at(20, 40, 60) * 2


def test_aggregate_window_creates_empty_windows_for_aggregates_only() -> None:
    ranged = "sampledata.int() |> range(start: sampledata.start, stop: 2021-01-01T00:02:00Z)"
    df = run(f"{ranged} |> aggregateWindow(every: 30s, fn: count)")
    assert df["_value"].tolist() == [3, 3, 0, 0] * 2
    assert df["_time"].tolist() == at(30, 60, 90, 120) * 2
    df = run(f"{ranged} |> aggregateWindow(every: 30s, fn: sum)")
    assert [None if pd.isna(v) else v for v in df["_value"]] == [
        15,
        36,
        None,
        None,
        20,
        33,
        None,
        None,
    ]
    df = run(f"{ranged} |> aggregateWindow(every: 30s, fn: last)")
    assert df["_value"].tolist() == [7, 4, -3, 1]
    df = run(f"{ranged} |> aggregateWindow(every: 30s, fn: sum, createEmpty: false)")
    assert df["_value"].tolist() == [15, 36, 20, 33]


def test_aggregate_window_needs_range() -> None:
    with pytest.raises(FluxError, match="use range\\(\\) first"):
        run("sampledata.int() |> aggregateWindow(every: 20s, fn: mean)")
