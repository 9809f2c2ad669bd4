"""Stable row identities, and the Idempotency-Keys derived from them.

A row's identity is its index label plus a hash of its content, so that the same row gives
the same identity in every run, process and Dask worker, and a changed row counts as a new
row. Rows that are identical in label and content are told apart by their occurrence (the
first, the second, ...), which is also stable from run to run. A ``scope`` (for example a Dask
partition number) keeps equal rows of different scopes apart.

The Idempotency-Key of a row is a UUID derived from the URL and the row's identity: a re-run
(a resumed journal, a Dask task run again after a worker died) sends the same key, so the
server can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter

import pandas as pd

__all__ = ["idempotency_keys", "row_identities"]

#: Namespace of the derived Idempotency-Keys (a fixed, project-specific UUID).
_KEY_NAMESPACE = uuid.UUID("5d3c1f0e-6a4b-5e2f-9c1d-8b7a6f5e4d3c")


def _content_hashes(df: pd.DataFrame) -> list[int]:
    """One 64-bit hash per row of index label and values; stable across processes."""
    try:
        hashed = pd.util.hash_pandas_object(df, index=True, categorize=False)
        return [int(h) for h in hashed.tolist()]
    except (TypeError, ValueError):
        # unhashable cells (lists, dicts): hash each row's text form instead
        as_text = pd.DataFrame(
            {str(i): df.iloc[:, i].map(repr) for i in range(df.shape[1])}, index=df.index
        )
        as_text.index = pd.Index([repr(label) for label in df.index])
        hashed = pd.util.hash_pandas_object(as_text, index=True, categorize=False)
        return [int(h) for h in hashed.tolist()]


def row_identities(df: pd.DataFrame, *, scope: str = "") -> list[str]:
    """One identity string per row of ``df``, in row order.

    Examples
    --------
    >>> df = pd.DataFrame({"v": [1, 1, 2]}, index=[0, 0, 1])
    >>> ids = row_identities(df)
    >>> ids[0] != ids[1], ids == row_identities(df.copy())
    (True, True)
    """
    seen: Counter[int] = Counter()
    out = []
    for h in _content_hashes(df):
        n = seen[h]
        seen[h] = n + 1
        out.append(f"{scope}:{h:016x}:{n}")
    return out


def idempotency_keys(url: str, identities: list[str]) -> list[str]:
    """The Idempotency-Key of each row: a UUID derived from the URL and the row identity.

    Exactly ``str(uuid.uuid5(namespace, f"{url}\\n{identity}"))``, computed from one SHA-1
    of the shared prefix (four times faster than ``uuid5`` per row).

    Examples
    --------
    >>> key = idempotency_keys("http://h/", [":00:0"])[0]
    >>> key == str(uuid.uuid5(_KEY_NAMESPACE, "http://h/\\n:00:0"))
    True
    """
    prefix = hashlib.sha1(_KEY_NAMESPACE.bytes + f"{url}\n".encode(), usedforsecurity=False)
    keys = []
    for identity in identities:
        digest = prefix.copy()
        digest.update(identity.encode())
        raw = bytearray(digest.digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        x = raw.hex()
        keys.append(f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}")
    return keys
