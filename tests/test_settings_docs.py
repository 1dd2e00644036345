"""Every setting is documented where operators look: the configuration reference and the example file.

The env var names are a public contract; a setting added without its line in
docs/configuration.md and config/tiketti.example.toml is one nobody can find.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import AliasChoices

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def env_name(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"TIKETTI_{name.upper()}"


def test_every_setting_has_a_row_in_the_configuration_reference() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    missing = [env_name(n) for n in Settings.model_fields if f"| `{env_name(n)}` |" not in reference]
    assert missing == []


def test_every_setting_is_in_the_example_file_which_parses() -> None:
    text = (ROOT / "config" / "tiketti.example.toml").read_text()
    values = tomllib.loads(text)
    assert set(values) <= set(Settings.model_fields)
    missing = [n for n in Settings.model_fields if f"\n{n} = " not in text and f"\n# {n} = " not in text]
    assert missing == []
