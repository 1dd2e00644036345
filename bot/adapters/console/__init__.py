"""The console face of Tiketti: the terminal plays the tickets channel (`tiketti demo`, scripts)."""

from bot.adapters.console.adapter import ConsoleAdapter, default_actor

__all__ = ["ConsoleAdapter", "default_actor"]
