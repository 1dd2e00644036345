"""The layers keep to their rooms (docs/architecture.md): the core and the chat layer import no platform.

Read from the source, so a forbidden import fails here even on a code path no other test runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

# What talks to the outside world: chat SDKs, mail libraries, HTTP, SQL drivers and the ORM.
OUTSIDE = ("slack_sdk", "slack_bolt", "discord", "imap_tools", "aiosmtplib", "aiosmtpd", "aiohttp",
           "sqlalchemy", "asyncpg", "aiosqlite", "alembic")

RULES = {
    "domain": OUTSIDE + ("bot.handlers", "bot.store", "bot.mail", "bot.chat", "bot.adapters"),
    "handlers": OUTSIDE + ("bot.store", "bot.mail", "bot.chat", "bot.adapters"),
    "chat": OUTSIDE + ("bot.store", "bot.mail", "bot.adapters"),
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(RULES))
def test_a_layer_imports_nothing_it_must_not_know(layer: str) -> None:
    files = sorted((BOT / layer).rglob("*.py"))
    assert files, f"bot/{layer} has no modules"
    broken = [f"{path.relative_to(BOT.parent)} imports {name}" for path in files for name in _imports(path)
              if any(name == banned or name.startswith(banned + ".") for banned in RULES[layer])]
    assert broken == []


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from slack_sdk.errors import SlackApiError\nimport bot.store.orm\nfrom . import x\n")
    assert _imports(probe) == ["slack_sdk.errors", "bot.store.orm"]
