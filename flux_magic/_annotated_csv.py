"""Flux's annotated CSV, read into pandas and written back.

A DataFrame carries its Flux group key in ``df.attrs["flux_group_key"]`` (a list of column
names); the annotated CSV ``result`` and ``table`` columns are kept as ordinary columns.

================================  ====================================
annotated CSV datatype            pandas dtype
================================  ====================================
``long``                          ``Int64`` (nullable)
``unsignedLong``                  ``UInt64`` (nullable, up to 2**64-1)
``double``                        ``float64`` (null is NaN)
``string``                        ``str``
``boolean``                       ``boolean`` (nullable)
``dateTime:RFC3339`` / ``Nano``   ``datetime64[ns, UTC]``
``duration``                      ``timedelta64[ns]``
``base64Binary``                  ``object`` holding ``bytes``
================================  ====================================
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from flux_magic._errors import FluxError
from flux_magic._flux._values import (
    Duration,
    format_duration,
    format_float,
    format_time_rfc3339nano,
    parse_duration,
)

__all__ = ["GROUP_KEY_ATTR", "read_annotated_csv", "tables", "to_annotated_csv"]

GROUP_KEY_ATTR = "flux_group_key"

_DATATYPES = {
    "string",
    "long",
    "unsignedLong",
    "double",
    "boolean",
    "base64Binary",
    "dateTime",
    "dateTime:RFC3339",
    "dateTime:RFC3339Nano",
    "duration",
}
_ANNOTATION_ORDER = ("group", "datatype", "default")


class _Block:
    """One annotated block: annotations, header and the records read so far."""

    def __init__(self, annotations: dict[str, list[str]], header: list[str], line: int) -> None:
        # With annotations, column 0 is the annotation column: data starts at column 1.
        self.offset = 1 if header and header[0] == "" else 0
        self.header = header[self.offset :]
        width = len(self.header)

        def annotation(name: str, fallback: str) -> list[str]:
            values = list(annotations.get(name, []))[:width]
            return values + [fallback] * (width - len(values))

        self.datatypes = [t or "string" for t in annotation("datatype", "string")]
        self.group = [g.strip().lower() == "true" for g in annotation("group", "false")]
        self.default = annotation("default", "")
        self.rows: list[list[str]] = []
        for name, datatype in zip(self.header, self.datatypes, strict=True):
            if datatype not in _DATATYPES:
                raise FluxError(
                    f"annotated CSV line {line}: unknown datatype {datatype!r} for column "
                    f"{name!r}; expected one of {', '.join(sorted(_DATATYPES))}"
                )

    def add(self, row: list[str]) -> None:
        self.rows.append(row[self.offset :])

    def frame(self) -> tuple[pd.DataFrame, list[str]]:
        columns: dict[str, Any] = {}
        for i, (name, datatype) in enumerate(zip(self.header, self.datatypes, strict=True)):
            cells = [row[i] if i < len(row) else "" for row in self.rows]
            cells = [c if c != "" else self.default[i] for c in cells]
            columns[name] = _parse_column(name, datatype, cells)
        key = [name for name, grouped in zip(self.header, self.group, strict=True) if grouped]
        return pd.DataFrame(columns), key


def _parse_column(name: str, datatype: str, cells: list[str]) -> Any:
    try:
        if datatype == "long":
            return pd.array([int(c) if c else None for c in cells], dtype="Int64")
        if datatype == "unsignedLong":
            return pd.array([int(c) if c else None for c in cells], dtype="UInt64")
        if datatype == "double":
            return np.array([float(c) if c else np.nan for c in cells], dtype="float64")
        if datatype == "boolean":
            return pd.array([_parse_bool(c) if c else None for c in cells], dtype="boolean")
        if datatype.startswith("dateTime"):
            stamps = [_parse_time(c) if c else pd.NaT for c in cells]
            return pd.Series(stamps, dtype="datetime64[ns, UTC]").array
        if datatype == "duration":
            return pd.Series(
                [_parse_duration_cell(c) if c else pd.NaT for c in cells],
                dtype="timedelta64[ns]",
            ).array
        if datatype == "base64Binary":
            return pd.array([base64.b64decode(c) if c else None for c in cells], dtype=object)
    except (ValueError, OverflowError) as exc:
        raise FluxError(f"annotated CSV: column {name!r} of type {datatype}: {exc}") from exc
    return pd.array([c if c else None for c in cells], dtype="str")


def _parse_time(cell: str) -> pd.Timestamp:
    stamp = pd.Timestamp(cell)
    if pd.isna(stamp):
        raise ValueError(f"{cell!r} is not a time")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _parse_bool(cell: str) -> bool:
    if cell in ("true", "false"):
        return cell == "true"
    raise ValueError(f"{cell!r} is not a boolean (true or false)")


def _parse_duration_cell(cell: str) -> pd.Timedelta:
    duration = parse_duration(cell)
    if duration.months:
        raise ValueError(f"duration {cell!r} has months; pandas cannot hold it")
    return duration.to_timedelta()


def read_annotated_csv(text: str) -> pd.DataFrame:
    """Read Flux annotated CSV into one DataFrame.

    Every table of every block becomes rows of the result; ``result`` and ``table`` stay as
    columns. The group key (columns marked ``true`` in ``#group``) is kept in
    ``df.attrs["flux_group_key"]``; if blocks disagree, the union is kept.

    Parameters
    ----------
    text : str
        Annotated CSV, as written by Flux (``#datatype``, ``#group``, ``#default`` rows, a
        header row, then records; blank lines separate blocks).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FluxError
        On an error table (header ``error,reference``), an unknown datatype or a bad cell.

    Examples
    --------
    >>> df = read_annotated_csv("#datatype,string,long,long\\n,result,table,x\\n,,0,1\\n")
    >>> df["x"].tolist()
    [1]
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    blocks: list[_Block] = []
    annotations: dict[str, list[str]] = {}
    current: _Block | None = None
    for line, row in enumerate(reader, start=1):
        if not row or all(cell == "" for cell in row):
            current = None
            continue
        if row[0].startswith("#"):
            current = None
            annotations[row[0][1:].strip()] = row[1:]
            continue
        if current is None:
            if [c.strip() for c in row if c.strip()][:2] == ["error", "reference"]:
                raise FluxError(_error_table(reader))
            current = _Block(annotations, row, line)
            blocks.append(current)
            annotations = {}
            continue
        current.add(row)
    if not blocks:
        return pd.DataFrame()
    frames: list[pd.DataFrame] = []
    key: list[str] = []
    for block in blocks:
        frame, block_key = block.frame()
        frames.append(frame)
        key += [k for k in block_key if k not in key]
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    df.attrs[GROUP_KEY_ATTR] = key
    return df


def _error_table(reader: Any) -> str:
    for row in reader:
        cells = [c for c in row if c != ""]
        if cells:
            return f"annotated CSV holds an error table: {cells[0]}"
    return "annotated CSV holds an error table"


def _datatype(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.BooleanDtype) or dtype == np.bool_:
        return "boolean"
    if pd.api.types.is_unsigned_integer_dtype(dtype):
        return "unsignedLong"
    if pd.api.types.is_integer_dtype(dtype):
        return "long"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "dateTime:RFC3339"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    for value in series:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, bytes | bytearray):
            return "base64Binary"
        if isinstance(value, bool | np.bool_):
            return "boolean"
        if isinstance(value, int | np.integer):
            return "long"
        if isinstance(value, float):
            return "double"
        if isinstance(value, pd.Timestamp):
            return "dateTime:RFC3339"
        if isinstance(value, pd.Timedelta | Duration):
            return "duration"
        break
    return "string"


def _format_cell(value: Any, datatype: str) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and np.isnan(value) and datatype != "double":
        return ""
    if datatype == "boolean":
        return "true" if value else "false"
    if datatype in ("long", "unsignedLong"):
        return str(int(value))
    if datatype == "double":
        if np.isnan(value):
            return ""
        return format_float(float(value))
    if datatype.startswith("dateTime"):
        return format_time_rfc3339nano(pd.Timestamp(value))
    if datatype == "duration":
        if isinstance(value, Duration):
            return format_duration(value)
        return format_duration(pd.Timedelta(value))
    if datatype == "base64Binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _quote(cell: str) -> str:
    """Quote a field the way Go's ``encoding/csv`` writer does."""
    if cell == "":
        return cell
    if cell == "\\." or any(c in cell for c in ',"\r\n') or cell[0] in " \t":
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _line(cells: Sequence[str]) -> str:
    return ",".join(_quote(c) for c in cells) + "\n"


def tables(df: pd.DataFrame) -> list[pd.DataFrame]:
    """Split a DataFrame into its Flux tables, in order of first appearance.

    Rows belong to the same table when they share the ``result`` and ``table`` columns (when
    present) and the values of every group-key column (``df.attrs["flux_group_key"]``).
    """
    key = [c for c in df.attrs.get(GROUP_KEY_ATTR, []) if c in df.columns]
    by = [c for c in ("result", "table") if c in df.columns and c not in key] + key
    if not by or df.empty:
        return [df]
    codes = pd.MultiIndex.from_frame(df[by].astype(object).where(df[by].notna(), None))
    order: dict[Any, list[int]] = {}
    for position, value in enumerate(codes):
        order.setdefault(value, []).append(position)
    return [df.iloc[positions] for positions in order.values()]


def to_annotated_csv(df: pd.DataFrame) -> str:
    """Write a DataFrame as Flux annotated CSV (``#group``, ``#datatype``, ``#default``).

    Tables are the groups of ``df.attrs["flux_group_key"]`` (and of the ``result`` and
    ``table`` columns when present); each table's rows are written together and tables are
    numbered from 0 within each result. The result name goes to ``#default``.

    Parameters
    ----------
    df : pandas.DataFrame

    Returns
    -------
    str
        The annotated CSV text, ``\\n`` line endings.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"tag": ["a", "b"], "_value": [1.5, 2.0]})
    >>> df.attrs["flux_group_key"] = ["tag"]
    >>> print(to_annotated_csv(df), end="")
    #group,false,false,true,false
    #datatype,string,long,string,double
    #default,_result,,,
    ,result,table,tag,_value
    ,,0,a,1.5
    ,,1,b,2
    """
    key = [c for c in df.attrs.get(GROUP_KEY_ATTR, []) if c in df.columns]
    columns = [c for c in df.columns if c not in ("result", "table")]
    datatypes = [_datatype(df[c]) for c in columns]
    results: dict[str, list[pd.DataFrame]] = {}
    for table in tables(df):
        name = "_result"
        if "result" in table.columns and len(table) and pd.notna(table["result"].iloc[0]):
            name = str(table["result"].iloc[0])
        results.setdefault(name, []).append(table)
    out: list[str] = []
    for name, result_tables in results.items():
        if out:
            out.append("\n")
        annotations = {
            "group": ["false", "false", *("true" if c in key else "false" for c in columns)],
            "datatype": ["string", "long", *datatypes],
            "default": [name, "", *([""] * len(columns))],
        }
        for annotation in _ANNOTATION_ORDER:
            out.append(_line([f"#{annotation}", *annotations[annotation]]))
        out.append(_line(["", "result", "table", *map(str, columns)]))
        for table_id, table in enumerate(result_tables):
            values = table[columns].astype(object).itertuples(index=False, name=None)
            for row in values:
                cells = [_format_cell(v, t) for v, t in zip(row, datatypes, strict=True)]
                out.append(_line(["", "", str(table_id), *cells]))
    return "".join(out)
