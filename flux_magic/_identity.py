"""Stable row identities, and the Idempotency-Keys derived from them.

A row's identity is its index label plus a hash of its content, so that the same row gives
the same identity in every run, process and Dask worker, and a changed row counts as a new
row. Rows that are identical in label and content are told apart by their occurrence (the
first, the second, ...), which is also stable from run to run. A ``scope`` (for example a Dask
partition number) keeps equal rows of different scopes apart.

The Idempotency-Key of a row is a UUID derived from the URL, the scope and the row's identity:
a re-run (a resumed journal, a Dask task run again after a worker died) sends the same key, so
the server can drop the duplicate. Everything here is computed over whole columns (numpy), not
row by row: a send with keys pays well under a microsecond per row for them.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RowIds", "idempotency_keys", "key_bytes", "key_strings", "row_ids"]

#: Namespace of the derived Idempotency-Keys (a fixed, project-specific UUID).
_KEY_NAMESPACE = uuid.UUID("5d3c1f0e-6a4b-5e2f-9c1d-8b7a6f5e4d3c")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, slots=True)
class RowIds:
    """The identities of a frame's rows: one 64-bit content hash (index label included) and
    one occurrence number per row, and the scope they belong to."""

    hashes: np.ndarray  # uint64
    occurrences: np.ndarray  # uint32
    scope: str = ""

    def __len__(self) -> int:
        return len(self.hashes)

    def identity(self, position: int) -> str:
        """The identity of one row as text: ``scope:hash:occurrence``."""
        return format_identity(
            self.scope, int(self.hashes[position]), int(self.occurrences[position])
        )

    def identities(self) -> list[str]:
        """Every row's identity as text, in row order."""
        scope = self.scope
        return [
            f"{scope}:{h:016x}:{n}"
            for h, n in zip(self.hashes.tolist(), self.occurrences.tolist(), strict=True)
        ]


def format_identity(scope: str, content_hash: int, occurrence: int) -> str:
    """An identity as text: ``scope:hash:occurrence``."""
    return f"{scope}:{content_hash:016x}:{occurrence}"


def _content_hashes(df: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of index label and values; stable across processes."""
    try:
        hashed = pd.util.hash_pandas_object(df, index=True, categorize=False)
    except (TypeError, ValueError):
        # unhashable cells (lists, dicts): hash each row's text form instead
        as_text = pd.DataFrame(
            {str(i): df.iloc[:, i].map(repr) for i in range(df.shape[1])}, index=df.index
        )
        as_text.index = pd.Index([repr(label) for label in df.index])
        hashed = pd.util.hash_pandas_object(as_text, index=True, categorize=False)
    return np.asarray(hashed, dtype=np.uint64)


def _occurrences(hashes: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows have the same hash (0 for the first)."""
    n = len(hashes)
    order = np.argsort(hashes, kind="stable")
    ranked = hashes[order]
    steps = np.arange(n, dtype=np.int64)
    starts = np.ones(n, dtype=bool)
    starts[1:] = ranked[1:] != ranked[:-1]
    first = np.maximum.accumulate(np.where(starts, steps, 0))
    out = np.empty(n, dtype=np.uint32)
    out[order] = steps - first
    return out


def row_ids(df: pd.DataFrame, *, scope: str = "") -> RowIds:
    """The identities of the rows of ``df``, in row order.

    Examples
    --------
    >>> df = pd.DataFrame({"v": [1, 1, 2]}, index=[0, 0, 1])
    >>> ids = row_ids(df).identities()
    >>> ids[0] != ids[1], ids == row_ids(df.copy()).identities()
    (True, True)
    """
    hashes = _content_hashes(df)
    return RowIds(hashes, _occurrences(hashes), scope)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 that spreads every input bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: np.ndarray = z ^ (z >> np.uint64(31))
    return out


def key_bytes(url: str, ids: RowIds) -> np.ndarray:
    """Every row's Idempotency-Key as 16 raw bytes (an ``(n, 16)`` uint8 array).

    The URL and scope give a salt (SHA-1); each row's two 64-bit halves are bijective mixes of
    its hash and of its occurrence with that salt, so distinct identities get distinct keys.
    The UUID's version is 8 (RFC 9562's custom layout), its variant RFC 4122's.
    """
    salt = hashlib.sha1(
        _KEY_NAMESPACE.bytes + f"{url}\n{ids.scope}".encode("utf-8", "surrogatepass"),
        usedforsecurity=False,
    ).digest()
    s0 = np.uint64(int.from_bytes(salt[:8], "big"))
    s1 = np.uint64(int.from_bytes(salt[8:16], "big"))
    with np.errstate(over="ignore"):
        high = _mix(ids.hashes ^ s0)
        low = _mix((ids.occurrences.astype(np.uint64) * _GOLDEN) ^ s1 ^ high)
    raw = np.empty((len(ids), 2), dtype=">u8")
    raw[:, 0] = high
    raw[:, 1] = low
    out = raw.view(np.uint8).reshape(len(ids), 16).copy()
    out[:, 6] = (out[:, 6] & 0x0F) | 0x80  # version 8
    out[:, 8] = (out[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return out


def key_strings(raw: np.ndarray) -> list[str]:
    """Keys of ``key_bytes`` as UUID text (``8-4-4-4-12`` lowercase hex), in one pass."""
    n = len(raw)
    if n == 0:
        return []
    hexed = np.frombuffer(raw.tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(n, 32)
    out = np.full((n, 37), ord("-"), dtype=np.uint8)
    out[:, 0:8] = hexed[:, 0:8]
    out[:, 9:13] = hexed[:, 8:12]
    out[:, 14:18] = hexed[:, 12:16]
    out[:, 19:23] = hexed[:, 16:20]
    out[:, 24:36] = hexed[:, 20:32]
    out[:, 36] = ord(" ")
    return out.tobytes().decode("ascii").split()


def idempotency_keys(url: str, ids: RowIds) -> list[str]:
    """The Idempotency-Key of each row, as text: a UUID derived from the URL and the row.

    Examples
    --------
    >>> ids = row_ids(pd.DataFrame({"v": [1, 2]}))
    >>> keys = idempotency_keys("http://h/", ids)
    >>> keys == idempotency_keys("http://h/", ids), keys[0] != keys[1], len(keys[0])
    (True, True, 36)
    """
    return key_strings(key_bytes(url, ids))
