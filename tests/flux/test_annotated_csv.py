"""Annotated CSV: datatypes, #group/#default, round trips, group-key splitting."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from flux_magic import sampledata
from flux_magic._annotated_csv import read_annotated_csv, tables, to_annotated_csv
from flux_magic._errors import FluxError

NAMES = ["float", "int", "uint", "string", "bool", "numericBool"]
FILES = [f"{n}{s}.csv" for n in NAMES for s in ("", "_includeNull")]


def shipped(name: str) -> str:
    path = resources.files("flux_magic").joinpath("_data", "sampledata", name)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", FILES)
def test_sampledata_round_trip_is_byte_for_byte(name: str) -> None:
    text = shipped(name)
    assert to_annotated_csv(read_annotated_csv(text)) == text


ALL_TYPES = """\
#group,false,false,true,false,false,false,false,false
#datatype,string,long,string,long,unsignedLong,double,boolean,dateTime:RFC3339
#default,_result,,,,,,,
,result,table,tag,i,u,f,b,t
,,0,a,-9223372036854775808,18446744073709551615,0.1,true,2021-01-01T00:00:00.123456789Z
,,0,a,,,,,
,,1,"b,c",9223372036854775807,0,-1e-07,false,2021-01-01T00:00:00Z
"""


def test_every_datatype_is_read_faithfully() -> None:
    df = read_annotated_csv(ALL_TYPES)
    assert list(df.columns) == ["result", "table", "tag", "i", "u", "f", "b", "t"]
    assert str(df["i"].dtype) == "Int64"
    assert str(df["u"].dtype) == "UInt64"
    assert df["f"].dtype == np.float64
    assert str(df["b"].dtype) == "boolean"
    assert str(df["t"].dtype) == "datetime64[ns, UTC]"
    assert df["i"].tolist()[0] == -(2**63)
    assert int(df["u"].iloc[0]) == 2**64 - 1
    assert df["t"].iloc[0].value % 1_000_000_000 == 123456789
    assert df["tag"].tolist() == ["a", "a", "b,c"]
    assert df["result"].tolist() == ["_result"] * 3
    assert df.attrs["flux_group_key"] == ["tag"]
    # nulls everywhere on the second row
    assert df.iloc[1][["i", "u", "f", "b", "t"]].isna().all()


def test_every_datatype_round_trips() -> None:
    out = to_annotated_csv(read_annotated_csv(ALL_TYPES))
    # the only change: -1e-07 is written the way Flux writes floats
    assert out == ALL_TYPES.replace("-1e-07", "-0.0000001")
    assert to_annotated_csv(read_annotated_csv(out)) == out


def test_default_fills_empty_cells_and_any_annotation_order() -> None:
    text = (
        "#datatype,string,long,string,double\n"
        "#default,mine,,fallback,\n"
        "#group,false,false,true,false\n"
        ",result,table,tag,_value\n"
        ",,0,,1.5\n"
        ",,0,,2\n"
    )
    df = read_annotated_csv(text)
    assert df["tag"].tolist() == ["fallback", "fallback"]
    assert df["result"].tolist() == ["mine", "mine"]
    assert to_annotated_csv(df).startswith("#group,false,false,true,false\n")
    assert "#default,mine,,,\n" in to_annotated_csv(df)


def test_several_blocks_and_results() -> None:
    text = (
        "#group,false,false,false\n#datatype,string,long,long\n#default,a,,\n"
        ",result,table,x\n,,0,1\n,,1,2\n"
        "\n"
        "#group,false,false,false\n#datatype,string,long,long\n#default,b,,\n"
        ",result,table,x\n,,0,3\n"
    )
    df = read_annotated_csv(text)
    assert df["result"].tolist() == ["a", "a", "b"]
    assert df["table"].tolist() == [0, 1, 0]
    assert [len(t) for t in tables(df)] == [1, 1, 1]
    assert to_annotated_csv(df) == text


def test_error_table_raises() -> None:
    text = "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,boom,\n"
    with pytest.raises(FluxError, match="boom"):
        read_annotated_csv(text)


def test_unknown_datatype_is_reported() -> None:
    text = "#datatype,string,long,decimal\n#group,false,false,false\n#default,,,\n"
    with pytest.raises(FluxError, match='column "x" has invalid datatype: unsupported data type'):
        read_annotated_csv(text + ",result,table,x\n,,0,1\n")


def test_durations_and_bytes_are_written_as_strings_flux_can_read() -> None:
    df = pd.DataFrame(
        {"d": pd.to_timedelta(["1h30m", "-5s"]), "raw": pd.array([b"hi", None], dtype=object)}
    )
    out = to_annotated_csv(df)
    assert out.splitlines()[1] == "#datatype,string,long,string,string"
    back = read_annotated_csv(out)
    assert back["d"].tolist() == ["1h30m", "-5s"]
    assert back["raw"].iloc[0] == "aGk="
    assert back["raw"].isna().tolist() == [False, True]


def test_csv_quoting_like_go() -> None:
    df = pd.DataFrame({"s": ['say "hi"', " lead", "a\nb", ""]})
    out = to_annotated_csv(df)
    assert ',,0,"say ""hi"""\n' in out
    assert ',,0," lead"\n' in out
    assert ',,0,"a\nb"\n' in out
    assert read_annotated_csv(out)["s"].tolist()[:3] == ['say "hi"', " lead", "a\nb"]


def test_group_key_splits_tables_by_sent() -> None:
    df = sampledata.int()
    df["_status"] = ["200", "204"] * 6
    df["_sent"] = ["true", "false"] * 6
    df.attrs["flux_group_key"] = [*df.attrs["flux_group_key"], "_sent"]
    out = to_annotated_csv(df)
    lines = out.splitlines()
    assert lines[0] == "#group,false,false,false,false,true,false,true"
    assert lines[3] == ",result,table,_time,_value,tag,_status,_sent"
    assert [line.split(",")[2] for line in lines[4:]] == [
        *["0"] * 3,
        *["1"] * 3,
        *["2"] * 3,
        *["3"] * 3,
    ]
    assert lines[4].endswith("t1,200,true")
    assert lines[7].endswith("t1,204,false")
    back = read_annotated_csv(out)
    assert back.attrs["flux_group_key"] == ["tag", "_sent"]
    assert len(tables(back)) == 4


def test_frame_without_result_or_table_columns() -> None:
    df = pd.DataFrame({"tag": ["x", "y", "x"], "v": pd.array([1, None, 3], dtype="Int64")})
    df.attrs["flux_group_key"] = ["tag"]
    assert to_annotated_csv(df) == (
        "#group,false,false,true,false\n"
        "#datatype,string,long,string,long\n"
        "#default,_result,,,\n"
        ",result,table,tag,v\n"
        ",,0,x,1\n"
        ",,0,x,3\n"
        ",,1,y,\n"
    )
