"""flux_magic: InfluxData Flux's ``http.endpoint()`` for pandas DataFrames in Jupyter.

>>> import flux_magic
>>> send = flux_magic.endpoint(url="http://127.0.0.1:8080/")(
...     lambda r: {"headers": {"Content-Type": "text/plain"},
...                "data": f"The value is {r._value}".encode()})
>>> # send.preview(df); result = send(df)   # result has _status, _sent, _error

``import flux_magic`` loads neither IPython nor ipywidgets; ``%load_ext flux_magic`` does.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._endpoint import Endpoint, Sender, endpoint
from ._errors import (
    EndpointError,
    FluxError,
    FluxMagicError,
    HeaderError,
    MappingError,
    SendInterrupted,
    UsageError,
)
from ._options import OPTION_DOCS, Options
from ._receiver import Received, Receiver, Reply
from ._request import check_url
from ._rows import Row

__all__ = [
    "OPTION_DOCS",
    "Endpoint",
    "EndpointError",
    "FluxError",
    "FluxMagicError",
    "HeaderError",
    "MappingError",
    "Options",
    "Received",
    "Receiver",
    "Reply",
    "Row",
    "SendInterrupted",
    "Sender",
    "UsageError",
    "__version__",
    "check_url",
    "endpoint",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext flux_magic``: register the magics (loads IPython-side code lazily)."""
    from ._magics import load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext flux_magic``: remove the magics again."""
    from ._magics import unload

    unload(ipython)
