"""Annotated CSV as Flux's ``csv.from`` reads it, and ``to_annotated_csv`` writing only what
``csv.from`` can read back.

Flux parses cells with Go's ``strconv`` and ``time.Parse(time.RFC3339, ...)``; its errors
keep Go's words (``strconv.ParseInt: parsing "1_000": invalid syntax``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flux_magic import read_annotated_csv, sampledata, to_annotated_csv
from flux_magic._errors import FluxError

from .flux_eval import table

HEAD = "#datatype,string,long,{t}\n#group,false,false,false\n#default,_result,,\n,result,table,v\n"


def one_column(datatype: str, *cells: str) -> pd.Series:
    text = HEAD.format(t=datatype) + "".join(f",,0,{c}\n" for c in cells)
    return read_annotated_csv(text)["v"]


@pytest.mark.parametrize("cell", ["true", "True", "TRUE", "t", "T", "1"])
def test_every_spelling_of_true(cell: str) -> None:
    assert one_column("boolean", cell).tolist() == [True]


@pytest.mark.parametrize("cell", ["false", "False", "FALSE", "f", "F", "0"])
def test_every_spelling_of_false(cell: str) -> None:
    assert one_column("boolean", cell).tolist() == [False]


@pytest.mark.parametrize("cell", ["yes", "no", "tRUE", "2", " true"])
def test_other_booleans_are_rejected(cell: str) -> None:
    with pytest.raises(FluxError, match=f'strconv.ParseBool: parsing "{cell}": invalid syntax'):
        one_column("boolean", cell)


@pytest.mark.parametrize(
    ("datatype", "cell", "value"),
    [
        ("long", "+5", 5),
        ("long", "-9223372036854775808", -(2**63)),
        ("long", "007", 7),
        ("unsignedLong", "18446744073709551615", 2**64 - 1),
        ("double", "1e3", 1000.0),
        ("double", ".5", 0.5),
        ("double", "-0.0000001", -1e-07),
        ("double", "+Inf", math.inf),
        ("double", "-Inf", -math.inf),
        ("double", "0x1p-2", 0.25),
    ],
)
def test_numbers_go_accepts(datatype: str, cell: str, value: float) -> None:
    assert one_column(datatype, cell).tolist() == [value]


@pytest.mark.parametrize(
    ("datatype", "cell", "message"),
    [
        ("long", "1_000", 'strconv.ParseInt: parsing "1_000": invalid syntax'),
        ("long", '"1,000"', 'strconv.ParseInt: parsing "1,000": invalid syntax'),
        ("long", " 12", 'strconv.ParseInt: parsing " 12": invalid syntax'),
        ("long", "12 ", 'strconv.ParseInt: parsing "12 ": invalid syntax'),
        ("long", "1.0", 'strconv.ParseInt: parsing "1.0": invalid syntax'),
        ("long", "9223372036854775808", "value out of range"),
        ("unsignedLong", "-1", 'strconv.ParseUint: parsing "-1": invalid syntax'),
        ("unsignedLong", "+1", 'strconv.ParseUint: parsing "\\+1": invalid syntax'),
        ("unsignedLong", "18446744073709551616", "value out of range"),
        ("double", "1_000.5", 'strconv.ParseFloat: parsing "1_000.5": invalid syntax'),
        ("double", " 1.5", 'strconv.ParseFloat: parsing " 1.5": invalid syntax'),
        ("double", "1e400", 'strconv.ParseFloat: parsing "1e400": value out of range'),
        ("double", "one", 'strconv.ParseFloat: parsing "one": invalid syntax'),
    ],
)
def test_numbers_flux_rejects(datatype: str, cell: str, message: str) -> None:
    with pytest.raises(FluxError, match=message) as info:
        one_column(datatype, cell)
    assert 'column "v"' in str(info.value)
    assert "line 5" in str(info.value)


def test_digit_separators_and_padding_get_a_hint() -> None:
    with pytest.raises(FluxError, match="remove the digit separators"):
        one_column("long", "1_000")
    with pytest.raises(FluxError, match="remove the spaces"):
        one_column("double", " 1.5")


@pytest.mark.parametrize(
    ("cell", "utc"),
    [
        ("2021-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),
        ("2021-01-01T01:00:00+01:00", "2021-01-01T00:00:00Z"),
        ("2020-12-31T19:00:00.5-05:00", "2021-01-01T00:00:00.5Z"),
        ("2021-01-01T00:00:00.123456789Z", "2021-01-01T00:00:00.123456789Z"),
    ],
)
def test_rfc3339_times(cell: str, utc: str) -> None:
    assert one_column("dateTime:RFC3339", cell).tolist() == [pd.Timestamp(utc)]
    assert one_column("dateTime:RFC3339Nano", cell).tolist() == [pd.Timestamp(utc)]
    assert one_column("dateTime", cell).tolist() == [pd.Timestamp(utc)]


@pytest.mark.parametrize("cell", ["2021-01-01T00:00:00", "2021-01-01", "2021-01-01 00:00:00"])
def test_times_without_a_zone_are_rejected(cell: str) -> None:
    with pytest.raises(FluxError, match=f'parsing time "{cell}"') as info:
        one_column("dateTime:RFC3339", cell)
    assert 'cannot parse "" as "Z07:00"' in str(info.value)
    assert "add Z" in str(info.value)


@pytest.mark.parametrize(
    ("cell", "field"),
    [
        ("2021-13-01T00:00:00Z", "month"),
        ("2021-02-29T00:00:00Z", "day"),
        ("2021-01-01T24:00:00Z", "hour"),
        ("2021-01-01T00:60:00Z", "minute"),
    ],
)
def test_impossible_times_are_rejected(cell: str, field: str) -> None:
    with pytest.raises(FluxError, match=f'parsing time "{cell}": {field} out of range'):
        one_column("dateTime:RFC3339", cell)


@pytest.mark.parametrize("cell", ["01/02/2021", "2021-01-01T00:00:00 UTC", "now"])
def test_other_time_layouts_are_rejected(cell: str) -> None:
    with pytest.raises(FluxError, match=f'parsing time "{cell}"'):
        one_column("dateTime:RFC3339", cell)


@pytest.mark.parametrize("datatype", ["decimal", "duration", "base64Binary", "int", "float"])
def test_unknown_datatypes_are_rejected(datatype: str) -> None:
    with pytest.raises(
        FluxError, match=f'column "v" has invalid datatype: unsupported data type "{datatype}"'
    ):
        one_column(datatype, "1")


@pytest.mark.parametrize(
    ("missing", "text"),
    [
        ("datatype", "#group,false,false,false\n#default,_result,,\n,result,table,v\n,,0,1\n"),
        ("group", "#datatype,string,long,long\n#default,_result,,\n,result,table,v\n,,0,1\n"),
        (
            "default",
            "#datatype,string,long,long\n#group,false,false,false\n,result,table,v\n,,0,1\n",
        ),
        ("datatype", ",result,table,v\n,,0,1\n"),
    ],
)
def test_missing_annotations_are_rejected(missing: str, text: str) -> None:
    with pytest.raises(FluxError, match=f"missing expected annotation {missing}") as info:
        read_annotated_csv(text)
    assert 'mode: "raw"' in str(info.value)


def test_every_block_needs_its_annotations() -> None:
    second = ",result,table,v\n,,0,2\n"
    with pytest.raises(FluxError, match="missing expected annotation"):
        read_annotated_csv(HEAD.format(t="long") + ",,0,1\n\n#datatype,string,long,long\n" + second)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (",,0,1,2\n", "wrong number of fields"),
        (",,0\n", "wrong number of fields"),
    ],
)
def test_rows_with_another_number_of_fields_are_rejected(rows: str, message: str) -> None:
    with pytest.raises(FluxError, match=message) as info:
        read_annotated_csv(HEAD.format(t="long") + ",,0,1\n" + rows)
    assert "line 6" in str(info.value)


def test_a_header_with_another_number_of_fields_is_rejected() -> None:
    text = "#datatype,string,long,long\n#group,false,false,false\n#default,,,\n,result,table,v,w\n"
    with pytest.raises(FluxError, match="failed to read header row: wrong number of fields"):
        read_annotated_csv(text)


def test_a_default_that_does_not_parse_is_rejected() -> None:
    text = "#datatype,string,long,long\n#group,false,false,false\n#default,,,x\n,result,table,v\n"
    with pytest.raises(FluxError, match='column "v" has invalid default value'):
        read_annotated_csv(text)


def test_blank_lines_are_skipped_and_table_ids_carry_on() -> None:
    text = HEAD.format(t="long") + ",,0,1\n\n,,,2\n,,1,3\n"
    df = read_annotated_csv(text)
    assert df["v"].tolist() == [1, 2, 3]
    assert df["table"].tolist() == [0, 0, 1]


def test_an_error_table_raises_its_message() -> None:
    text = (
        '#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,"boom, bang",\n'
    )
    with pytest.raises(FluxError, match="boom, bang"):
        read_annotated_csv(text)


def test_nan_is_a_value_and_an_empty_cell_is_null() -> None:
    text = HEAD.format(t="double") + ",,0,NaN\n,,0,\n,,0,1.5\n"
    column = read_annotated_csv(text)["v"]
    assert column.isna().tolist() == [False, True, False]
    assert math.isnan(column.iloc[0])
    out = to_annotated_csv(read_annotated_csv(text))
    assert out.splitlines()[4:] == [",,0,NaN", ",,0,", ",,0,1.5"]
    assert to_annotated_csv(read_annotated_csv(out)) == out


def test_raw_mode_reads_plain_csv_as_strings() -> None:
    df = table('import "csv"\ncsv.from(csv: "a,b\\n1,x\\n,y\\n", mode: "raw")\n')
    assert list(df.columns) == ["a", "b"]
    assert df["a"].tolist()[0] == "1"
    assert df["a"].isna().tolist() == [False, True]
    assert df["b"].tolist() == ["x", "y"]


def test_raw_mode_keeps_annotation_rows_as_data() -> None:
    df = read_annotated_csv("#datatype,long\nx,y\n", mode="raw")
    assert list(df.columns) == ["#datatype", "long"]
    assert df.iloc[0].tolist() == ["x", "y"]


def test_csv_from_reports_flux_errors_at_the_argument() -> None:
    program = 'import "csv"\ncsv.from(csv: "#group,false,false,false\\n,result,table,v\\n")\n'
    with pytest.raises(FluxError, match="missing expected annotation datatype") as info:
        table(program)
    assert "@2:15" in str(info.value)


def test_csv_from_rejects_an_unknown_mode() -> None:
    with pytest.raises(FluxError, match='mode must be "annotations" or "raw"'):
        table('import "csv"\ncsv.from(csv: "a\\n1\\n", mode: "plain")\n')


def test_docs_example_stream() -> None:
    csv_data = (
        "#datatype,string,long,dateTime:RFC3339,string,double\n"
        "#group,false,false,false,true,false\n"
        "#default,_result,,,,\n"
        ",result,table,_time,_field,_value\n"
        ",,0,2022-01-01T00:00:00Z,foo,12\n"
        ",,0,2022-01-01T00:01:00Z,foo,15\n"
    )
    df = table(f'import "csv"\ncsv.from(csv: "{csv_data}")\n')
    assert df["_value"].tolist() == [12.0, 15.0]
    assert df.attrs["flux_group_key"] == ["_field"]


FLUX_DATATYPES = {"string", "long", "unsignedLong", "double", "boolean", "dateTime:RFC3339"}


def test_to_annotated_csv_writes_only_datatypes_csv_from_reads() -> None:
    df = pd.DataFrame(
        {
            "i": pd.array([1, None], dtype="Int64"),
            "u": pd.array([1, None], dtype="UInt64"),
            "f": [1.5, np.nan],
            "b": pd.array([True, None], dtype="boolean"),
            "s": ["a", None],
            "t": pd.to_datetime(["2021-01-01", None], utc=True),
            "naive": pd.to_datetime(["2021-01-01", "2021-01-02"]),
            "d": pd.to_timedelta(["1h", None]),
            "raw": [b"\x00\xff", None],
            "obj": [{"a": 1}, None],
            "np_int": np.array([1, 2], dtype=np.int32),
            "np_bool": [True, False],
        }
    )
    out = to_annotated_csv(df)
    datatypes = out.splitlines()[1].split(",")[1:]
    assert set(datatypes) <= FLUX_DATATYPES
    back = read_annotated_csv(out)
    assert back["d"].tolist()[0] == "1h"
    assert back["naive"].tolist() == list(pd.to_datetime(["2021-01-01", "2021-01-02"], utc=True))


@pytest.mark.parametrize("name", ["float", "int", "uint", "string", "bool", "numericBool"])
def test_sampledata_round_trips_through_csv_from(name: str) -> None:
    df = getattr(sampledata, name)(include_null=True)
    text = to_annotated_csv(df)
    back = table(f'import "csv"\ncsv.from(csv: "{text}")\n')
    assert to_annotated_csv(back) == text


TWO_SCHEMAS = """\
#group,false,false,false,true,false
#datatype,string,long,dateTime:RFC3339,string,double
#default,_result,,,,
,result,table,_time,_field,_value
,,0,2022-01-01T00:00:00Z,foo,12
,,0,2022-01-01T00:01:00Z,foo,15

#group,false,false,false,true,false
#datatype,string,long,dateTime:RFC3339,string,string
#default,_result,,,,
,result,table,_time,_field,_value
,,1,2022-01-01T00:00:00Z,bar,0jCcsMYM
"""


def test_tables_with_different_column_types_get_their_own_blocks() -> None:
    """As Flux's encoder does: a table whose schema differs starts a new annotated block."""
    df = read_annotated_csv(TWO_SCHEMAS)
    assert df["_value"].tolist() == [12.0, 15.0, "0jCcsMYM"]
    assert to_annotated_csv(df) == TWO_SCHEMAS


def test_one_column_of_one_table_holding_two_types_is_an_error() -> None:
    df = pd.DataFrame({"v": pd.array([1.5, "a"], dtype=object)})
    with pytest.raises(FluxError, match="column 'v' holds values of different types"):
        to_annotated_csv(df)


def test_python_integers_past_int64_are_written_as_unsigned_long() -> None:
    df = pd.DataFrame({"v": pd.array([2**64 - 1, 1], dtype=object)})
    out = to_annotated_csv(df)
    assert out.splitlines()[1] == "#datatype,string,long,unsignedLong"
    assert [int(v) for v in read_annotated_csv(out)["v"]] == [2**64 - 1, 1]
    with pytest.raises(FluxError, match="outside Flux's 64-bit range"):
        to_annotated_csv(pd.DataFrame({"v": pd.array([2**64, -1], dtype=object)}))
