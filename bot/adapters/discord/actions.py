"""Run one `/ticket` command (the grammar every adapter shares) and say how it went, Discord style."""

from __future__ import annotations

import dataclasses

from bot.adapters.actions import CHANGES, QUESTIONS, answer_question, perform_change
from bot.adapters.commands import TicketCommand, UsageError
from bot.adapters.discord import answers
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.digest import report_answer
from bot.adapters.discord.parts import DiscordParts
from bot.adapters.discord.undo_button import held_answer
from bot.handlers.context import Actor

QUESTIONS_WITHOUT_NUMBER = frozenset({"help", "mine", "queue", "next", "tasks", "report", "search", "kb", "replies",
                                      "macros"})


async def execute(parts: DiscordParts, actor: Actor, cmd: TicketCommand, assignee: Actor | None = None) -> Answer:
    ctx = parts.ctx
    if cmd.number is None and cmd.verb not in QUESTIONS_WITHOUT_NUMBER:
        raise UsageError(f"which ticket? give its number, or use /ticket {cmd.verb} inside the ticket's thread")
    if cmd.verb in CHANGES:
        if assignee is not None:
            cmd = dataclasses.replace(cmd, assignee=assignee.chat_user_id, assignee_name=assignee.name)

        async def resolve(user_id: str, name: str) -> Actor:
            return assignee if assignee is not None and assignee.chat_user_id == user_id else Actor(user_id, name)

        outcome = await perform_change(ctx, actor, cmd, resolve)
        if isinstance(outcome, str):
            return answers.text(outcome)
        link = await parts.thread_link(outcome.ticket.number)
        if outcome.held_until is not None and outcome.message is not None:  # a held reply: with its Undo button
            return held_answer(outcome, link)
        return answers.done(outcome.summary, link)
    if cmd.verb in QUESTIONS:
        return await answer_question(ctx, actor, cmd, answers, parts.thread_link)
    if cmd.verb == "report":
        return await report_answer(parts, actor, cmd.text)
    raise UsageError(f"unknown command '/ticket {cmd.verb}'; try /ticket help")
