"""Documentation that must not fall behind the code."""

from __future__ import annotations

from pathlib import Path

from prognos.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    missing = [n for n in Settings.model_fields if f"`PROGNOS_{n.upper()}`" not in doc]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"


def test_every_setting_has_a_description():
    assert all(f.description for f in Settings.model_fields.values())


def test_readme_leads_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    head = readme[:1500]
    assert "make demo" in head and "make test" in head
