"""Flux's annotated CSV, read into pandas and written back.

A DataFrame carries its Flux group key in ``df.attrs["flux_group_key"]`` (a list of column
names); the annotated CSV ``result`` and ``table`` columns are kept as ordinary columns.

================================  ==============================================
annotated CSV datatype            pandas dtype
================================  ==============================================
``long``                          ``Int64`` (nullable)
``unsignedLong``                  ``UInt64`` (nullable, up to 2**64-1)
``double``                        ``float64`` (null is NaN); ``Float64`` when a
                                  cell holds NaN (null is <NA>, NaN stays NaN)
``string``                        ``str``
``boolean``                       ``boolean`` (nullable)
``dateTime:RFC3339`` / ``Nano``   ``datetime64[ns, UTC]``
================================  ==============================================

Reading follows Flux's ``csv.from``: every block needs ``#datatype``, ``#group`` and
``#default``; cells are parsed as Go's ``strconv`` and ``time.Parse(RFC3339)`` parse them, and
what Flux rejects is rejected in Flux's words. Writing never uses a datatype ``csv.from`` cannot
read: duration columns become ``string`` duration literals, bytes become base64 ``string``.
"""

from __future__ import annotations

import base64
import calendar
import csv
import io
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.arrays import FloatingArray

from flux_magic._errors import FluxError
from flux_magic._flux._values import (
    Duration,
    format_duration,
    format_float,
    format_time_rfc3339nano,
)

__all__ = ["GROUP_KEY_ATTR", "read_annotated_csv", "tables", "to_annotated_csv"]

GROUP_KEY_ATTR = "flux_group_key"

_DATATYPES = ("boolean", "long", "unsignedLong", "double", "string", "dateTime")
_TIME_FORMATS = ("", "RFC3339", "RFC3339Nano")
_ANNOTATIONS = ("datatype", "group", "default")
_ANNOTATION_ORDER = ("group", "datatype", "default")
_RECORD_START = 3  # column 0 holds annotations, 1 the result name, 2 the table id
_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))
_INT = re.compile(r"[+-]?[0-9]+")
_UINT = re.compile(r"[0-9]+")
_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    r"|[nN][aA][nN]"
)
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_ZONELESS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
)
_GO_RFC3339 = "2006-01-02T15:04:05Z07:00"


class _CellError(ValueError):
    """A cell Flux cannot parse: Go's message, and what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def _padding_hint(cell: str) -> str:
    if cell != cell.strip():
        return "Flux does not trim cells: remove the spaces around the value."
    if "_" in cell or ("," in cell and cell.replace(",", "").strip("+-").isdigit()):
        return "Flux reads plain digits only: remove the digit separators."
    return ""


def _syntax(function: str, cell: str) -> _CellError:
    return _CellError(f'strconv.{function}: parsing "{cell}": invalid syntax', _padding_hint(cell))


def _parse_bool(cell: str) -> bool:
    if cell in _TRUE:
        return True
    if cell in _FALSE:
        return False
    raise _CellError(
        f'strconv.ParseBool: parsing "{cell}": invalid syntax',
        "Flux reads booleans as true/false, t/f, 1/0 (also True, TRUE, T, ...).",
    )


def _parse_int(cell: str) -> int:
    if not _INT.fullmatch(cell):
        raise _syntax("ParseInt", cell)
    value = int(cell)
    if not -(2**63) <= value < 2**63:
        raise _CellError(f'strconv.ParseInt: parsing "{cell}": value out of range')
    return value


def _parse_uint(cell: str) -> int:
    if not _UINT.fullmatch(cell):
        raise _syntax("ParseUint", cell)
    value = int(cell)
    if value >= 2**64:
        raise _CellError(f'strconv.ParseUint: parsing "{cell}": value out of range')
    return value


def _parse_float(cell: str) -> float:
    if not _FLOAT.fullmatch(cell):
        raise _syntax("ParseFloat", cell)
    try:
        value = float.fromhex(cell) if "x" in cell.lower() else float(cell)
    except OverflowError:
        value = math.inf
    if math.isinf(value) and "inf" not in cell.lower():
        raise _CellError(f'strconv.ParseFloat: parsing "{cell}": value out of range')
    return value


def _parse_time(cell: str, layout: str = _GO_RFC3339) -> pd.Timestamp:
    match = _RFC3339.fullmatch(cell)
    if match is None:
        if _ZONELESS.fullmatch(cell):
            raise _CellError(
                f'parsing time "{cell}" as "{layout}": cannot parse "" as "Z07:00"',
                "Flux needs an RFC 3339 time with a zone: add Z (UTC) or an offset such as "
                "+01:00, e.g. 2021-01-01T00:00:00Z.",
            )
        raise _CellError(
            f'parsing time "{cell}" as "{layout}": not an RFC 3339 time',
            "Write times like 2021-01-01T00:00:00Z or 2021-01-01T01:00:00.5+01:00.",
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    limits = (
        ("month", 1 <= month <= 12),
        ("day", 1 <= day <= (calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 31)),
        ("hour", hour < 24),
        ("minute", minute < 60),
        ("second", second < 60),
    )
    for field, ok in limits:
        if not ok:
            raise _CellError(f'parsing time "{cell}": {field} out of range')
    try:
        return pd.Timestamp(cell).tz_convert("UTC").as_unit("ns")
    except ValueError:
        raise _CellError(
            f'parsing time "{cell}": outside the nanosecond range of Flux times (1677-2262)'
        ) from None


def _parse_cell(datatype: str, cell: str) -> Any:
    if datatype == "boolean":
        return _parse_bool(cell)
    if datatype == "long":
        return _parse_int(cell)
    if datatype == "unsignedLong":
        return _parse_uint(cell)
    if datatype == "double":
        return _parse_float(cell)
    if datatype == "dateTime":
        return _parse_time(cell)
    return cell


def _decode_type(label: str, datatype: str) -> str:
    kind, _, layout = datatype.partition(":")
    if kind not in _DATATYPES:
        raise FluxError(
            f'column "{label}" has invalid datatype: unsupported data type "{kind}"'
            + _datatype_hint(kind)
        )
    if kind == "dateTime" and layout not in _TIME_FORMATS:
        raise FluxError(
            f'column "{label}" has datatype {datatype}: flux_magic reads dateTime, '
            "dateTime:RFC3339 and dateTime:RFC3339Nano only"
        )
    return kind


def _datatype_hint(kind: str) -> str:
    known = ", ".join((*_DATATYPES[:-1], "dateTime:RFC3339", "dateTime:RFC3339Nano"))
    extra = ""
    if kind in ("duration", "base64Binary"):
        extra = f" Flux's csv.from cannot read {kind} columns: write them as string."
    return f"\n\nFlux's csv.from reads the datatypes {known}.{extra}"


class _Block:
    """One annotated block: column names, types, group flags, defaults, and its rows."""

    def __init__(
        self,
        annotations: dict[str, list[str]],
        header: list[str],
        line: int,
        *,
        raw: bool = False,
    ) -> None:
        start = 0 if raw else _RECORD_START
        self.start = start
        self.raw = raw
        self.labels = header[start:]
        self.line = line
        if raw:
            self.types = ["string"] * len(self.labels)
            self.group = [False] * len(self.labels)
            self.defaults: list[Any] = [None] * len(self.labels)
            self.result, self.table = "_result", "0"
            self.rows: list[tuple[int, list[str]]] = []
            return
        self.types = [
            _decode_type(lab, t)
            for lab, t in zip(self.labels, annotations["datatype"][start:], strict=True)
        ]
        self.group = [g == "true" for g in annotations["group"][start:]]
        self.result = annotations["default"][1]
        self.table = annotations["default"][2]
        self.defaults = []
        for label, kind, cell in zip(
            self.labels, self.types, annotations["default"][start:], strict=True
        ):
            try:
                self.defaults.append(_parse_cell(kind, cell) if cell else None)
            except _CellError as exc:
                raise FluxError(
                    f'column "{label}" has invalid default value: {exc}'
                    + (f"\n\n{exc.hint}" if exc.hint else "")
                ) from None
        self.rows = []

    def frame(self) -> tuple[pd.DataFrame, list[str]]:
        columns: dict[str, Any] = {}
        if not self.raw:
            results: list[str] = []
            ids: list[str] = []
            current = self.table
            for _, row in self.rows:
                results.append(row[1] or self.result)
                current = row[2] or current
                ids.append(current)
            columns["result"] = pd.array(results, dtype="str")
            columns["table"] = _table_ids(ids)
        for j, (label, kind) in enumerate(zip(self.labels, self.types, strict=True)):
            if kind == "dateTime":
                times = _bulk_times([row[self.start + j] for _, row in self.rows], self.defaults[j])
                if times is not None:
                    columns[label] = times
                    continue
            values: list[Any] = []
            for line, row in self.rows:
                cell = row[self.start + j]
                if cell == "":
                    values.append(self.defaults[j])
                    continue
                try:
                    values.append(_parse_cell(kind, cell))
                except _CellError as exc:
                    raise FluxError(
                        f'{exc} (annotated CSV line {line}, column "{label}" of type {kind})'
                        + (f"\n\n{exc.hint}" if exc.hint else "")
                    ) from None
            columns[label] = _column(kind, values)
        key = [label for label, grouped in zip(self.labels, self.group, strict=True) if grouped]
        return pd.DataFrame(columns), key


def _bulk_times(cells: list[str], default: Any) -> Any:
    """A time column parsed in one pandas call when every cell is a well-formed RFC 3339 time;
    None when one is not (the cell-by-cell parse then finds it and words the error)."""
    if not all(c == "" or _RFC3339.fullmatch(c) for c in cells):
        return None
    try:
        parsed = pd.to_datetime(pd.Series(cells).replace("", None), utc=True, format="ISO8601")
    except (ValueError, OverflowError):
        return None
    if default is not None:
        parsed = parsed.fillna(default)
    return parsed.astype("datetime64[ns, UTC]").array


def _table_ids(ids: list[str]) -> Any:
    if all(_INT.fullmatch(i) for i in ids):
        return pd.array([int(i) for i in ids], dtype="Int64")
    return pd.array(ids, dtype="str")


def _column(kind: str, values: list[Any]) -> Any:
    if kind == "long":
        return pd.array(values, dtype="Int64")
    if kind == "unsignedLong":
        return pd.array(values, dtype="UInt64")
    if kind == "double":
        data = np.array([np.nan if v is None else v for v in values], dtype="float64")
        if any(v is not None and math.isnan(v) for v in values):
            # a NaN value next to nulls: keep them apart (null is <NA>, NaN stays NaN)
            return FloatingArray(data, np.array([v is None for v in values], dtype=bool))
        return data
    if kind == "boolean":
        return pd.array(values, dtype="boolean")
    if kind == "dateTime":
        return pd.Series(
            [pd.NaT if v is None else v for v in values], dtype="datetime64[ns, UTC]"
        ).array
    return pd.array(values, dtype="str")


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """The CSV records with their line numbers; blank lines are skipped, as Go's reader does."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        if row:
            rows.append((reader.line_num, row))
    return rows


def _read_metadata(rows: list[tuple[int, list[str]]], i: int) -> tuple[int, _Block | None]:
    found: dict[str, list[str]] = {}
    width = -1
    while any(name not in found for name in _ANNOTATIONS):
        if i >= len(rows):
            if not found:
                return i, None
            raise _missing(found, rows[-1][0])
        line, row = rows[i]
        width = len(row) if width < 0 else width
        if len(row) != width:
            raise FluxError(
                f"failed to read annotations: wrong number of fields (annotated CSV line {line}: "
                f"{len(row)} fields, the annotations above have {width})"
            )
        name = row[0].removeprefix("#")
        if name in _ANNOTATIONS:
            if len(row) < _RECORD_START:
                raise FluxError(
                    f"annotated CSV line {line}: an annotation row needs the annotation, "
                    "result and table columns before the data columns"
                )
            if name == "default" and row[2] and not _INT.fullmatch(row[2]):
                raise FluxError("failed to read metadata: default Table ID is not an integer")
            found[name] = row
        elif not row[0].startswith("#"):
            raise _missing(found, line)
        i += 1
    if i >= len(rows):
        raise FluxError("failed to read metadata: missing expected header row")
    line, header = rows[i]
    if len(header) != width:
        raise FluxError(
            f"failed to read header row: wrong number of fields (annotated CSV line {line}: "
            f"{len(header)} fields, the annotations have {width})"
        )
    if len(header) > 1 and header[1] == "error":
        message = rows[i + 1][1][1] if i + 1 < len(rows) and len(rows[i + 1][1]) > 1 else ""
        raise FluxError(f"annotated CSV holds an error table: {message}".rstrip(": "))
    return i + 1, _Block(found, header, line)


def _missing(found: dict[str, list[str]], line: int) -> FluxError:
    name = next(n for n in _ANNOTATIONS if n not in found)
    return FluxError(
        f"failed to read metadata: missing expected annotation {name} (annotated CSV line "
        f"{line})\n\nFlux's csv.from needs the #datatype, #group and #default rows before "
        'each header row; csv.from(csv: ..., mode: "raw") reads CSV without annotations.'
    )


def _read_blocks(rows: list[tuple[int, list[str]]]) -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    while i < len(rows):
        i, block = _read_metadata(rows, i)
        if block is None:
            break
        width = len(block.labels) + _RECORD_START
        while i < len(rows):
            line, row = rows[i]
            if len(row) != width:
                if row[0] == "":
                    raise FluxError(
                        f"wrong number of fields (annotated CSV line {line}: {len(row)} fields, "
                        f"the header has {width})"
                    )
                break
            if row[0] != "":
                break
            block.rows.append((line, row))
            i += 1
        blocks.append(block)
    return blocks


def _read_raw(rows: list[tuple[int, list[str]]]) -> list[_Block]:
    if not rows:
        return []
    line, header = rows[0]
    block = _Block({}, header, line, raw=True)
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise FluxError(
                f"wrong number of fields (CSV line {line}: {len(row)} fields, the header "
                f"has {len(header)})"
            )
        block.rows.append((line, row))
    return [block]


def read_annotated_csv(text: str, *, mode: str = "annotations") -> pd.DataFrame:
    """Read Flux annotated CSV into one DataFrame, as Flux's ``csv.from`` reads it.

    Every table of every block becomes rows of the result; ``result`` and ``table`` stay as
    columns. The group key (columns marked ``true`` in ``#group``) is kept in
    ``df.attrs["flux_group_key"]``; if blocks disagree, the union is kept. What Flux rejects
    is rejected, in Flux's words: a block without ``#datatype``, ``#group`` and ``#default``,
    an unknown datatype (Flux reads ``boolean``, ``long``, ``unsignedLong``, ``double``,
    ``string`` and ``dateTime``), a row with more or fewer fields than its header, numbers
    with digit separators or spaces, times without a zone.

    Parameters
    ----------
    text : str
        Annotated CSV, as written by Flux (``#datatype``, ``#group``, ``#default`` rows, a
        header row, then records).
    mode : {"annotations", "raw"}
        ``"raw"``: plain CSV, the first row is the header and every column is a string
        (``csv.from(mode: "raw")``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FluxError
        On an error table (header ``error,reference``) and anything Flux cannot read.

    Examples
    --------
    >>> df = read_annotated_csv(
    ...     "#datatype,string,long,long\\n#group,false,false,false\\n#default,_result,,\\n"
    ...     ",result,table,x\\n,,0,1\\n"
    ... )
    >>> df["x"].tolist()
    [1]
    """
    if mode not in ("annotations", "raw"):
        raise FluxError(f'mode must be "annotations" or "raw", not {mode!r}')
    rows = _rows(text)
    blocks = _read_raw(rows) if mode == "raw" else _read_blocks(rows)
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
    kinds = {_value_datatype(v) for v in series if not _missing_value(v)}
    if len(kinds) > 1:
        raise FluxError(
            f"column {series.name!r} holds values of different types ({', '.join(sorted(kinds))}) "
            "in one table; a Flux column has one type: convert them first, e.g. "
            "df[col].astype(str)"
        )
    kind = kinds.pop() if kinds else "string"
    if kind == "long":
        numbers = [int(v) for v in series if not _missing_value(v)]
        if max(numbers) >= 2**63 and min(numbers) >= 0:
            return "unsignedLong"
        if max(numbers) >= 2**63 or min(numbers) < -(2**63):
            raise FluxError(f"column {series.name!r} holds integers outside Flux's 64-bit range")
    return kind


def _missing_value(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
    )


def _value_datatype(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "base64Binary"
    if isinstance(value, bool | np.bool_):
        return "boolean"
    if isinstance(value, int | np.integer):
        return "long"
    if isinstance(value, float | np.floating):
        return "double"
    if isinstance(value, pd.Timestamp):
        return "dateTime:RFC3339"
    if isinstance(value, pd.Timedelta | Duration):
        return "duration"
    return "string"


# Flux's csv.from reads neither durations nor bytes: they are written as strings (a duration
# literal that duration(v:) reads back, base64 text).
_WRITTEN_AS = {"duration": "string", "base64Binary": "string"}


def _nan_is_null(series: pd.Series) -> bool:
    """A numpy float column holds null as NaN (pandas' convention); a ``Float64`` one keeps
    null (<NA>) and NaN apart."""
    return series.dtype == np.float64 or series.dtype == object


def _format_cell(value: Any, datatype: str, nan_is_null: bool = True) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and np.isnan(value) and (datatype != "double" or nan_is_null):
        return ""
    if datatype == "boolean":
        return "true" if value else "false"
    if datatype in ("long", "unsignedLong"):
        return str(int(value))
    if datatype == "double":
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
    typed = {c: _datatype(df[c]) for c in columns if df[c].dtype != object}
    nan_is_null = [_nan_is_null(df[c]) for c in columns]
    results: dict[str, list[pd.DataFrame]] = {}
    for table in tables(df):
        name = "_result"
        if "result" in table.columns and len(table) and pd.notna(table["result"].iloc[0]):
            name = str(table["result"].iloc[0])
        results.setdefault(name, []).append(table)
    out: list[str] = []
    for name, result_tables in results.items():
        written: list[str] | None = None
        for table_id, table in enumerate(result_tables):
            # object columns are typed per table: a new schema starts a new block, as in Flux
            datatypes = [typed[c] if c in typed else _datatype(table[c]) for c in columns]
            if datatypes != written:
                if out:
                    out.append("\n")
                annotations = {
                    "group": [
                        "false",
                        "false",
                        *("true" if c in key else "false" for c in columns),
                    ],
                    "datatype": ["string", "long", *(_WRITTEN_AS.get(t, t) for t in datatypes)],
                    "default": [name, "", *([""] * len(columns))],
                }
                for annotation in _ANNOTATION_ORDER:
                    out.append(_line([f"#{annotation}", *annotations[annotation]]))
                out.append(_line(["", "result", "table", *map(str, columns)]))
                written = datatypes
            values = table[columns].astype(object).itertuples(index=False, name=None)
            for row in values:
                cells = [
                    _format_cell(v, t, n)
                    for v, t, n in zip(row, datatypes, nan_is_null, strict=True)
                ]
                out.append(_line(["", "", str(table_id), *cells]))
    return "".join(out)
