"""The README's option table and the engine's options must not drift apart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import flux_magic

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_option_is_documented_with_its_default() -> None:
    text = README.read_text(encoding="utf-8")
    for field in dataclasses.fields(flux_magic.Options):
        default = field.default
        if default is dataclasses.MISSING:
            assert field.default_factory is not dataclasses.MISSING
            default = field.default_factory()
        row = f"| `{field.name}` | `{default!r}` |"
        assert row in text, f"README.md's option table lacks {row}"
        assert flux_magic.OPTION_DOCS[field.name] in text


def test_readme_has_the_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "pip install . && python -m flux_magic demo" in text
    assert "bash .ci/run" in text
