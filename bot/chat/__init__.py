"""What every chat platform shares: the surface port, the thread sync, notices and the chat flows.

`bot.handlers` knows tickets; a platform's folder under `bot.adapters` knows its SDK.
Between them, this package knows threads: which ticket is shown where, what a
thread still lacks, where a notice goes, what a line typed in a thread means.
A platform implements `surface.ChatSurface` and gets all of it (docs/architecture.md).
"""
