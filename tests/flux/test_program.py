"""Flux programs: table functions, the group key, http.endpoint/http.post to a real Receiver."""

from __future__ import annotations

import pandas as pd
import pytest

import flux_magic
from flux_magic._annotated_csv import to_annotated_csv
from flux_magic._errors import FluxError
from flux_magic._flux import FluxWarning, run_program

DOCS_EXAMPLE = """\
import "http"
import "sampledata"

sampledata.int()
    |> http.endpoint(url: "{url}")(
        mapfn: (r) => {{
            return {{headers: {{header1: "example1", header2: "example2"}},
                     data: bytes(v: "The value is ${{r._value}}")}}
        }},
    )()
"""


def test_docs_example_runs_with_a_warning_about_mapfn(receiver: flux_magic.Receiver) -> None:
    with pytest.warns(FluxWarning, match="the parameter is mapFn"):
        result = run_program(DOCS_EXAMPLE.format(url=receiver.url))
    df = result.frame()
    assert df is not None
    assert df["_sent"].tolist() == ["true"] * 12
    assert df["_status"].tolist() == ["200"] * 12
    assert df.attrs["flux_group_key"] == ["tag", "_sent"]
    requests = receiver.requests
    assert requests["method"].tolist() == ["POST"] * 12
    assert requests["body"].iloc[0] == b"The value is -2"
    assert requests["body"].tolist()[:3] == [
        b"The value is -2",
        b"The value is 10",
        b"The value is 7",
    ]
    assert requests["headers"].iloc[0]["Header1"] == "example1"


def test_only_200_counts_as_sent_and_tables_split_by_sent() -> None:
    def answer(request: flux_magic.Received) -> int:
        return 200 if request.body.endswith(b"t1") else 204

    program = """
import "http"
import "sampledata"
sampledata.int()
    |> http.endpoint(url: "{url}")(mapFn: (r) => ({{headers: {{}}, data: bytes(v: r.tag)}}))()
"""
    with flux_magic.Receiver(answer) as rx:
        df = run_program(program.format(url=rx.url)).frame()
    assert df is not None
    assert df["_sent"].tolist() == ["true"] * 6 + ["false"] * 6
    assert df["_status"].tolist() == ["200"] * 6 + ["204"] * 6
    csv = to_annotated_csv(df)
    assert csv.splitlines()[0] == "#group,false,false,false,false,true,false,true"


def test_transport_error_stops_the_program(closed_port_url: str) -> None:
    program = f"""
import "http"
import "sampledata"
sampledata.int()
    |> http.endpoint(url: "{closed_port_url}")(
        mapFn: (r) => ({{headers: {{}}, data: bytes(v: "x")}}))()
"""
    with pytest.raises(FluxError, match="failed to evaluate map function") as info:
        run_program(program)
    partial = info.value.result  # type: ignore[attr-defined]
    assert isinstance(partial, pd.DataFrame)
    assert len(partial) == 0


def test_collect_mode_keeps_going(closed_port_url: str) -> None:
    program = f"""
import "http"
import "sampledata"
sampledata.int()
    |> limit(n: 1)
    |> http.endpoint(url: "{closed_port_url}")(
        mapFn: (r) => ({{headers: {{}}, data: bytes(v: "x")}}))()
"""
    df = run_program(program, endpoint_options={"errors": "collect"}).frame()
    assert df is not None
    assert df["_sent"].tolist() == ["false", "false"]
    assert all(df["_error"].astype(str).str.len() > 0)


def test_map_fn_type_error_points_into_the_program(receiver: flux_magic.Receiver) -> None:
    program = f"""import "http"
import "sampledata"
sampledata.int()
    |> http.endpoint(url: "{receiver.url}")(mapFn: (r) => ({{headers: {{}}, data: r.tag}}))()
"""
    with pytest.raises(FluxError, match="expected bytes but found string for data") as info:
        run_program(program)
    assert "@4:" in str(info.value)  # the line of the mapping
    assert "bytes(v: ...)" in str(info.value)
    assert receiver.count == 0


def test_http_post_returns_the_status() -> None:
    with flux_magic.Receiver(201) as rx:
        result = run_program(
            f'import "http"\nstatus = http.post(url: "{rx.url}", headers: {{x: "1"}}, '
            'data: bytes(v: "hi"))\n'
        )
        assert rx.requests["body"].tolist() == [b"hi"]
    assert result.values["status"] == 201


def test_table_functions_and_yield() -> None:
    result = run_program(
        """
import "sampledata"
import "strings"
option now = () => 2030-01-01T00:00:00Z
sampledata.float()
    |> filter(fn: (r) => r._value > 10.0)
    |> map(fn: (r) => ({r with label: strings.toUpper(v: r.tag), at: now()}))
    |> limit(n: 1)
    |> drop(columns: ["_time"])
    |> yield(name: "big")
sampledata.string() |> keep(columns: ["tag"]) |> limit(n: 2, offset: 1) |> yield(name: "tags")
"""
    )
    big = result.tables["big"]
    assert big["_value"].tolist() == [10.92, 19.85]
    assert big["label"].tolist() == ["T1", "T2"]
    assert big["at"].tolist() == [pd.Timestamp("2030-01-01", tz="UTC")] * 2
    assert "_time" not in big.columns
    assert big["result"].tolist() == ["big", "big"]
    assert big.attrs["flux_group_key"] == ["tag"]
    tags = result.tables["tags"]
    assert list(tags.columns) == ["result", "table", "tag"]
    assert len(tags) == 4


def test_array_from_and_csv_from() -> None:
    result = run_program(
        """
import "array"
import "csv"
array.from(rows: [{a: 1, b: "x"}, {a: 2, b: "y"}]) |> yield(name: "arr")
data = "#datatype,string,long,double
#group,false,false,false
#default,_result,,
,result,table,v
,,0,1.5
"
csv.from(csv: data) |> yield(name: "csv")
"""
    )
    assert result.tables["arr"]["a"].tolist() == [1, 2]
    assert str(result.tables["arr"]["a"].dtype) == "Int64"
    assert result.tables["csv"]["v"].tolist() == [1.5]


def test_group_changes_the_key() -> None:
    df = run_program('import "sampledata"\nsampledata.int() |> group(columns: ["_time"])').frame()
    assert df is not None
    assert df.attrs["flux_group_key"] == ["_time"]
    assert to_annotated_csv(df).count("\n,,5,") == 2


@pytest.mark.parametrize(
    ("program", "message", "where"),
    [
        ("sampledata.int()", "undefined identifier sampledata", "@1:1-1:11"),
        ('import "nope"', 'unknown package "nope"', "@1:1-1:14"),
        ('import "sampledata"\nsampledata.int(includeNull: 1)', "expected bool", "@2:29-2:30"),
        (
            'import "sampledata"\nsampledata.int() |> limit()',
            "missing required argument n",
            "@2:21",
        ),
        (
            'import "sampledata"\nsampledata.int() |> filter(fn: (r) => r._value)',
            "must return a bool",
            "@2:32",
        ),
        ("x = 1\nx = 2", "x is already defined", "@2:1-2:6"),
        ('import "http"\nhttp.endpoint(url: "ftp://x")', "ftp", "@2:20-2:29"),
    ],
)
def test_program_errors(program: str, message: str, where: str) -> None:
    with pytest.raises(flux_magic.FluxMagicError, match=message) as info:
        run_program(program)
    assert where in str(info.value)


def test_packages_kept_one_module_each_are_imported_by_path() -> None:
    result = run_program(
        'import "sampledata"\nimport "internal/debug"\nsampledata.int() |> debug.pass()'
    )
    frame = result.frame()
    assert frame is not None
    assert len(frame) == 12
    with pytest.raises(FluxError, match=r"(?s)unknown package.*internal/debug"):
        run_program('import "no/such/package"')
