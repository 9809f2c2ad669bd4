"""Flux packages kept one module each, found by their import path.

``import "contrib/sranka/teams"`` loads ``_stdlib/contrib_sranka_teams.py`` (slashes and dashes
become underscores) and calls its ``members()``. Every such module has ``PATH``, its Flux import
path, and ``members() -> dict[str, Any]``, the package's names (built with
``flux_magic._flux._builtins.builtin``). Adding a package is adding a module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

__all__ = ["members", "module_name", "paths"]


def module_name(path: str) -> str:
    """The module of the package imported as ``path``."""
    return f"{__name__}.{path.replace('/', '_').replace('-', '_').replace('.', '_')}"


def members(path: str) -> dict[str, Any] | None:
    """The names of the package ``path``, or None if there is no module for it."""
    name = module_name(path)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
    if getattr(module, "PATH", None) != path:
        return None
    result: dict[str, Any] = module.members()
    return result


def paths() -> tuple[str, ...]:
    """The import paths of every package kept here (imports them all: for messages only)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "PATH", None), str):
            found.append(module.PATH)
    return tuple(sorted(found))
