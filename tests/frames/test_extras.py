"""Dask and Polars stay optional: not imported by ``import flux_magic``, named when missing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import flux_magic

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_import_flux_magic_imports_no_frame_library() -> None:
    done = run(
        """
        import sys, flux_magic
        heavy = {"dask", "distributed", "polars", "narwhals"}  # (pandas 3 loads pyarrow)
        print(sorted(heavy & {m.split(".")[0] for m in sys.modules}))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_polars_frame_without_the_extra_gets_one_line_naming_it() -> None:
    done = run(
        """
        import sys
        import polars as pl
        sys.modules["pyarrow"] = None  # as if flux_magic[polars] had not been installed
        import flux_magic
        send = flux_magic.endpoint("http://127.0.0.1:9/")(lambda r: {"data": b""})
        for call in (lambda: send(pl.DataFrame({"v": [1]})),
                     lambda: send.preview(pl.LazyFrame({"v": [1]}))):
            try:
                call()
            except flux_magic.UsageError as exc:
                print(exc)
        """
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        "sending a Polars DataFrame needs the polars extra (missing: pyarrow): "
        "pip install 'flux_magic[polars]'",
        "sending a Polars LazyFrame needs the polars extra (missing: pyarrow): "
        "pip install 'flux_magic[polars]'",
    ]


def test_a_dask_frame_without_the_extra_gets_one_line_naming_it() -> None:
    done = run(
        """
        import sys
        import pandas as pd
        import dask.dataframe as dd
        sys.modules["distributed"] = None  # as if flux_magic[dask] had not been installed
        import flux_magic
        send = flux_magic.endpoint("http://127.0.0.1:9/")(lambda r: {"data": b""})
        try:
            send(dd.from_pandas(pd.DataFrame({"v": [1]}), npartitions=1))
        except flux_magic.UsageError as exc:
            print(exc)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "sending a Dask DataFrame needs the dask extra (missing: distributed): "
        "pip install 'flux_magic[dask]'"
    )


def test_a_series_of_any_library_is_named_with_its_fix() -> None:
    import pandas as pd

    dd = pytest.importorskip("dask.dataframe")
    pl = pytest.importorskip("polars")
    send = flux_magic.endpoint("http://127.0.0.1:9/")(lambda r: {"headers": {}, "data": b""})
    ddf = dd.from_pandas(pd.DataFrame({"n": [1]}), npartitions=1)
    cases = [
        (pd.Series([1]), r"got a pandas Series; use series\.to_frame\(\) \(or df\[\[column\]\]"),
        (pl.Series([1]), r"got a polars Series; use series\.to_frame\(\) \(or df\.select"),
        (ddf["n"], r"got a dask Series; use series\.to_frame\(\) \(or ddf\[\[column\]\]"),
    ]
    for series, message in cases:
        with pytest.raises(flux_magic.UsageError, match=message):
            send(series)
        with pytest.raises(flux_magic.UsageError, match=message):
            send.preview(series)
