"""`/ticket replies [words]` lists canned replies; `/ticket replies save NAME [team|<team>|personal] [from N]`
saves the agent's last reply as one. Sending one is `/ticket reply N :name` (bot.handlers.reply_text)."""

from __future__ import annotations

import re
from typing import TypeVar

from bot.adapters.answers import Answers, ThreadLink
from bot.adapters.commands import SPECS, TicketCommand, UsageError
from bot.handlers import canned
from bot.handlers.context import Actor, Context

A = TypeVar("A")

_FROM = re.compile(r"(?:^|\s)from\s+#?(?P<n>\d+)(?=\s|$)", re.IGNORECASE)


async def answer(ctx: Context, actor: Actor, cmd: TicketCommand, render: Answers[A], link: ThreadLink) -> A:
    """/ticket replies, worded by the adapter's `render`."""
    first, _, rest = cmd.text.strip().partition(" ")
    if first.lower() == "save":
        return await _save(ctx, actor, cmd, rest, render)
    entries, broken = await canned.available(ctx, actor, cmd.text)
    items = [f":{e.name} — {e.title} ({', '.join(e.languages)}; {e.scope})"
             + (f" [{', '.join(e.tags)}]" if e.tags else "") for e in entries]
    items += [f"⚠ broken: {b.source} — {b.reason}" for b in broken]
    title = f"Canned replies matching {cmd.text.strip()!r}" if cmd.text.strip() else "Canned replies"
    return render.lines(title + " · send one with /ticket reply N :name", items,
                        "none found" if cmd.text.strip() else "none yet (save one with /ticket replies save NAME)")


async def _save(ctx: Context, actor: Actor, cmd: TicketCommand, rest: str, render: Answers[A]) -> A:
    number = cmd.number
    if (found := _FROM.search(rest)) is not None:
        number = int(found.group("n"))
        rest = (rest[:found.start()] + " " + rest[found.end():]).strip()
    words = rest.split()
    if not words or len(words) > 2:
        raise UsageError(f"usage: {SPECS['replies'].usage}")
    name, scope = words[0], (words[1] if len(words) == 2 else "")
    saved = await canned.save(ctx, actor, name, personal=scope.lower() == "personal",
                              shared_with=scope if scope and scope.lower() != "personal" else None, number=number)
    return render.lines(f"Saved :{saved.name}", [
        f"your reply on #{saved.ticket} is now the canned reply :{saved.name} ({saved.language}; {saved.scope})",
        f"file: {saved.path} in the replies folder; send it with /ticket reply N :{saved.name}"], "")
