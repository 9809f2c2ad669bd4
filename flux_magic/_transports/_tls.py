"""The send's ``ssl.SSLContext``, one for every backend, from the ``verify`` option."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

__all__ = ["tls_context"]


def tls_context(verify: bool | str | os.PathLike[str] | ssl.SSLContext) -> ssl.SSLContext:
    """``verify`` as a client context: True checks certificates against certifi's roots (as
    httpx and requests do; ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` override them), a path checks
    them against that CA bundle file or directory, False checks nothing, and a context is
    used as given. ALPN offers ``http/1.1``; SNI is sent by the backends."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif verify is True:
        cafile = os.environ.get("SSL_CERT_FILE")
        capath = os.environ.get("SSL_CERT_DIR")
        if cafile and Path(cafile).is_file():
            context = ssl.create_default_context(cafile=cafile)
        elif capath and Path(capath).is_dir():
            context = ssl.create_default_context(capath=capath)
        else:
            import certifi

            context = ssl.create_default_context(cafile=certifi.where())
    else:
        path = Path(verify)
        if path.is_dir():
            context = ssl.create_default_context(capath=str(path))
        else:
            context = ssl.create_default_context(cafile=str(path))
    context.set_alpn_protocols(["http/1.1"])
    return context
