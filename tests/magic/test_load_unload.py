"""``%load_ext`` / ``%unload_ext flux_magic`` register and remove every magic cleanly."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, cell_magic, magics_class

import flux_magic._magics as magics_module
from flux_magic._magics import FluxEndpointMagic


def ours(ip: Any) -> dict[str, list[str]]:
    table = ip.magics_manager.magics
    return {
        kind: sorted(n for n, fn in table[kind].items() if magics_module._is_ours(fn))
        for kind in table
    }


def configurables(ip: Any) -> list[Any]:
    return [c for c in ip.configurables if isinstance(c, FluxEndpointMagic)]


@pytest.fixture
def bare_shell() -> Iterator[Any]:
    """The IPython shell without flux_magic loaded, left that way afterwards."""
    ip = InteractiveShell.instance(history_length=0, colors="NoColor")
    if "flux_magic" in ip.extension_manager.loaded:
        ip.run_line_magic("unload_ext", "flux_magic")
    magics_module.unload(ip)
    yield ip
    if "flux_magic" in ip.extension_manager.loaded:
        ip.run_line_magic("unload_ext", "flux_magic")
    magics_module.unload(ip)
    ip.config.pop("FluxEndpointMagic", None)


def test_load_registers_and_unload_removes_everything(bare_shell: Any) -> None:
    ip = bare_shell
    assert ours(ip) == {"line": [], "cell": []}
    ip.run_line_magic("load_ext", "flux_magic")
    assert "flux_endpoint" in ip.magics_manager.magics["cell"]
    assert "flux_endpoint_ui" in ip.magics_manager.magics["line"]  # the widget's magic
    if importlib.util.find_spec("flux_magic._flux_magic") is not None:
        assert "flux" in ip.magics_manager.magics["cell"]  # %%flux, from its own module
    assert len(configurables(ip)) == 1
    assert isinstance(ip.magics_manager.registry["FluxEndpointMagic"], FluxEndpointMagic)
    ip.run_line_magic("unload_ext", "flux_magic")
    assert ours(ip) == {"line": [], "cell": []}
    assert configurables(ip) == []
    assert "FluxEndpointMagic" not in ip.magics_manager.registry
    assert ip.find_cell_magic("flux_endpoint") is None
    ip.run_line_magic("load_ext", "flux_magic")
    assert ip.find_cell_magic("flux_endpoint") is not None


def test_loading_twice_is_harmless_and_keeps_config(bare_shell: Any) -> None:
    ip = bare_shell
    ip.run_line_magic("load_ext", "flux_magic")
    ip.run_line_magic("config", "FluxEndpointMagic.concurrency = 3")
    registered = ours(ip)
    ip.run_line_magic("load_ext", "flux_magic")  # IPython: "already loaded"
    magics_module.load(ip)  # the function itself, twice
    magics_module.load(ip)
    assert ours(ip) == registered
    assert len(configurables(ip)) == 1
    assert configurables(ip)[0].concurrency == 3
    assert ip.find_cell_magic("flux_endpoint").__self__ is configurables(ip)[0]


def test_unload_leaves_other_magics_alone(bare_shell: Any) -> None:
    ip = bare_shell
    before = {kind: set(table) for kind, table in ip.magics_manager.magics.items()}
    ip.run_line_magic("load_ext", "flux_magic")
    ip.run_line_magic("unload_ext", "flux_magic")
    after = {kind: set(table) for kind, table in ip.magics_manager.magics.items()}
    assert after == before
    assert ip.find_line_magic("timeit") is not None


def test_flux_magic_class_is_registered_when_importable(
    bare_shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("flux_magic._flux_magic")

    @magics_class
    class FluxMagic(Magics):
        @cell_magic
        def flux(self, line: str, cell: str) -> str:
            return f"flux: {cell.strip()}"

    FluxMagic.__module__ = module.__name__
    FluxMagic.flux.__module__ = module.__name__
    module.FluxMagic = FluxMagic  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    ip = bare_shell
    ip.run_line_magic("load_ext", "flux_magic")
    assert ip.run_cell_magic("flux", "", "1 + 1") == "flux: 1 + 1"
    magics_module.load(ip)
    assert sum(isinstance(c, FluxMagic) for c in ip.configurables) == 1
    ip.run_line_magic("unload_ext", "flux_magic")
    assert ip.find_cell_magic("flux") is None
    assert "FluxMagic" not in ip.magics_manager.registry
    assert not any(isinstance(c, FluxMagic) for c in ip.configurables)


def test_a_broken_optional_module_warns_and_the_main_magic_still_loads(
    bare_shell: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    ip = bare_shell
    monkeypatch.setattr(magics_module, "_OPTIONAL", (("flux_magic._not_there", "X", "register"),))
    magics_module.load(ip)  # a module that is simply absent: silent
    assert ip.find_cell_magic("flux_endpoint") is not None
    magics_module.unload(ip)
    (tmp_path / "fm_broken_optional.py").write_text("raise RuntimeError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(magics_module, "_OPTIONAL", (("fm_broken_optional", "X", "register"),))
    with pytest.warns(UserWarning, match="fm_broken_optional are not available: RuntimeError"):
        magics_module.load(ip)
    assert ip.find_cell_magic("flux_endpoint") is not None
