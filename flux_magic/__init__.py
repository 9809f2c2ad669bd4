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
    JournalError,
    MappingError,
    SendInterrupted,
    UsageError,
)
from ._journal import read_journal
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
    "JournalError",
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
    "flux_fn",
    "load_ipython_extension",
    "looks_like_flux",
    "plot_outcomes",
    "read_annotated_csv",
    "read_journal",
    "sampledata",
    "to_annotated_csv",
    "unload_ipython_extension",
]

# The Flux layer loads a grammar; import it on first use only.
_LAZY = {
    "flux_fn": ("._flux", "flux_fn"),
    "looks_like_flux": ("._flux", "looks_like_flux"),
    "plot_outcomes": ("._plot", "plot_outcomes"),
    "read_annotated_csv": ("._annotated_csv", "read_annotated_csv"),
    "to_annotated_csv": ("._annotated_csv", "to_annotated_csv"),
    "sampledata": (".sampledata", None),
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'flux_magic' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name, __name__)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext flux_magic``: register the magics (loads IPython-side code lazily)."""
    from ._magics import load

    load(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext flux_magic``: remove the magics again."""
    from ._magics import unload

    unload(ipython)
