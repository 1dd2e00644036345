"""The console face of Tiketti: the terminal plays the tickets channel (`tiketti demo`, scripts), through
an in-memory chat surface (`ConsoleSurface`) on which the chat flows are tested once."""

from bot.adapters.console.adapter import ConsoleAdapter, default_actor
from bot.adapters.console.surface import ConsoleSurface

__all__ = ["ConsoleAdapter", "ConsoleSurface", "default_actor"]
