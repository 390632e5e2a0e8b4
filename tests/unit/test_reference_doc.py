"""rules/README.md documents every key with the schema's own defaults (regenerate:
scripts/gen-docs)."""

from __future__ import annotations

from sidecar.config.reference import BEGIN, END, render_reference
from sidecar.config.schema import Settings
from tests.conftest import ROOT


def test_rules_readme_reference_is_up_to_date() -> None:
    text = (ROOT / "rules" / "README.md").read_text()
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    assert generated.strip() == render_reference().strip(), "run scripts/gen-docs"


def test_reference_lists_every_settings_key_with_its_default() -> None:
    ref = render_reference()
    for name in Settings.model_fields:
        assert f"| `{name}` |" in ref
    assert "| `interval` | duration | `30s` |" in ref
