"""The public surface and the import boundary."""

from __future__ import annotations

import subprocess
import sys

import flux_magic


def test_import_does_not_load_ipython_or_ipywidgets() -> None:
    code = (
        "import sys, flux_magic, flux_magic.sampledata; "
        "heavy = ('IPython', 'ipywidgets', 'traitlets', 'tqdm', 'matplotlib'); "
        "bad = [m for m in heavy if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_all_is_complete() -> None:
    names = flux_magic.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(flux_magic, name), name
    public = {n for n in dir(flux_magic) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(names)
