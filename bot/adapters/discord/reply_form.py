"""The Reply form on Discord, with the collision warnings every reply path has.

Opening it (the card's Reply, or *Review and send* below) is refused before any form
for whoever may not reply, records a draft, names whoever else is answering in the
form, and tells them by DM (Discord has no private message outside an interaction).
Submitting it checks again, as Slack's form does (`bot.handlers.collision.newer_than`):
if the customer wrote or a colleague replied since the form opened, nothing is mailed;
the agent is told what happened and gets a *Review and send* button that opens the form
again with their text, so they read first and then send. A typed `/ticket reply` held
for the same reason (`bot.adapters.collisions.ReplyHeld`) gets the same button.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import discord

from bot.adapters.collisions import held_because
from bot.adapters.discord import answers
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.embeds import cut
from bot.adapters.discord.forms import FORM_SECONDS
from bot.adapters.discord.parts import DiscordParts
from bot.adapters.discord.replying import answer, deferred
from bot.adapters.discord.undo_button import held_answer
from bot.domain.access import Action
from bot.domain.errors import InvalidInput, UserFacingError
from bot.domain.mail_ids import reply_subject
from bot.domain.time_spent import parse_duration
from bot.handlers import collision, queries, replies
from bot.handlers.context import Actor
from bot.handlers.errors import Refused
from bot.handlers.permissions import permit

log = logging.getLogger(__name__)

REPLY_CHARS = 4000  # Discord's limit for a text input
REPLY_FORM, REPLY_TEXT = "tiketti:reply-form", "tiketti:reply-text"
REPLY_TIME = "tiketti:reply-time"  # the optional "Time spent" field, logged with the reply (never mailed)
_FORM_ID = re.compile(f"{REPLY_FORM}:(?P<number>[1-9][0-9]{{0,17}}):(?P<opened>[0-9]{{1,15}}):[0-9a-f]+")
# Per client, the Reply forms it opened (custom id -> when), which discord.py dispatches itself: kept
# after a submit too (discord.py's task and ours run in no set order), forgotten with the form's timeout.
OPEN_FORMS: weakref.WeakKeyDictionary[discord.Client, dict[str, float]] = weakref.WeakKeyDictionary()
REVIEW_SECONDS = 15 * 60  # how long a held reply's *Review and send* button works (the text is kept in memory)
INTERNAL_REPLY = "internal ticket: nothing to mail; write a note in the thread"


class ReplyModal(discord.ui.Modal):
    """Write the answer; submitting it mails the customer (or writes to their DM) through the outbox.

    Its custom id carries the ticket and when the form opened (`tiketti:reply-form:123:<ms>:<nonce>`):
    discord.py forgets an open form when the bot restarts, so a submit it no longer knows is read from
    the interaction alone (`submitted_after_restart`) and the typed text is not lost."""

    def __init__(self, parts: DiscordParts, number: int, to: str, subject: str, warnings: Sequence[str] = (),
                 text: str = "", spent: str = "") -> None:
        """`to` as the agent should read it: the customer's address, or "their Discord DM"; `warnings`:
        who else is answering (`bot.handlers.collision`), shown first in the field; `text` and `spent`: a held
        reply's."""
        opened = parts.ctx.clock()
        custom_id = f"{REPLY_FORM}:{number}:{int(opened.timestamp() * 1000)}:{secrets.token_hex(6)}"
        super().__init__(title=f"Reply to #{number}"[:45], custom_id=custom_id, timeout=FORM_SECONDS)
        self.parts, self.number, self.opened = parts, number, opened
        hint = " · ".join([*(f"⚠️ {w}" for w in warnings), f"To {to} · {subject}"])
        self.text: discord.ui.TextInput[ReplyModal] = discord.ui.TextInput(
            label="Sent to the customer"[:45], style=discord.TextStyle.paragraph, max_length=REPLY_CHARS,
            placeholder=hint[:100], default=text[:REPLY_CHARS] or None, custom_id=REPLY_TEXT)
        self.add_item(self.text)
        self.spent: discord.ui.TextInput[ReplyModal] = discord.ui.TextInput(
            label="Time spent (optional, not sent)", style=discord.TextStyle.short, max_length=20, required=False,
            placeholder="25m, 1h30m, 1.5h", default=spent[:20] or None, custom_id=REPLY_TIME)
        self.add_item(self.spent)
        _opened(parts.client, custom_id)

    async def on_timeout(self) -> None:
        OPEN_FORMS.get(self.parts.client, {}).pop(self.custom_id, None)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await submit_reply(self.parts, interaction, self.number, self.opened, self.text.value, self.spent.value or "")


def _opened(client: discord.Client, custom_id: str) -> None:
    now, forms = time.monotonic(), OPEN_FORMS.setdefault(client, {})
    for old in [k for k, at in forms.items() if now - at > FORM_SECONDS]:
        del forms[old]
    forms[custom_id] = now


async def submitted_after_restart(parts: DiscordParts, interaction: discord.Interaction) -> bool:
    """Handle a Reply form's submit that discord.py does not know (opened before a restart); False if
    `interaction` is not one."""
    data = interaction.data or {}
    custom_id = str(data.get("custom_id") or "")
    match = _FORM_ID.fullmatch(custom_id)
    if interaction.type is not discord.InteractionType.modal_submit or match is None \
            or custom_id in OPEN_FORMS.get(parts.client, {}):
        return False
    opened = datetime.fromtimestamp(int(match["opened"]) / 1000, UTC)
    values = {c.get("custom_id"): str(c.get("value") or "") for c in _inputs(data)}
    await submit_reply(parts, interaction, int(match["number"]), opened, values.get(REPLY_TEXT, ""),
                       values.get(REPLY_TIME, ""))
    return True


def _inputs(data: Any) -> list[dict[str, Any]]:
    """The text inputs of a submitted form, in action rows or in labels."""
    found = []
    for row in data.get("components") or []:
        found += [*(row.get("components") or []), *([row["component"]] if row.get("component") else [])]
    return found


async def submit_reply(parts: DiscordParts, interaction: discord.Interaction, number: int, opened: datetime,
                       text: str, spent: str = "") -> None:
    """Mail `text` unless the customer wrote or a colleague replied since `opened`: then hold it. A bad
    `spent` (the "Time spent" field) holds it too: Discord's forms cannot mark a field, so the answer says
    what is wrong and *Review and send* opens the form again with the text."""
    async def work() -> Answer:
        who = parts.actor(interaction.user)  # checked again: the form may outlive their role
        try:
            minutes = parse_duration(spent) if spent.strip() else 0
        except InvalidInput as exc:
            return Answer(cut(f"⚠️ Not sent: Time spent: {exc}. Nothing was mailed or logged: press **Review and "
                              "send** to correct it.", 1900),
                          view=ReviewReply(parts, number, text, [f"Time spent: {exc}"], interaction.user.id))
        newer = await collision.newer_than(parts.ctx, who, number, opened)
        if newer:  # someone moved first: nothing is mailed until they have read it
            return held(parts, number, [f"since you opened the form, {line}" for line in newer], text,
                        interaction.user.id, spent)
        result = await replies.reply(parts.ctx, who, number, text, minutes=minutes)
        await collision.reply_closed(parts.ctx, who, number)
        if result.held_until is not None:  # held for its undo window: the answer carries Undo
            return held_answer(result)
        return answers.done(f"✉️ {result.summary}", None)

    await deferred(interaction, work, "reply")


async def reply_form(parts: DiscordParts, who: Actor, number: int, *, text: str = "",
                     warnings: Sequence[str] = (), spent: str = "") -> ReplyModal:
    """The form for `who` on ticket `number`, or a UserFacingError to show instead (refused, internal).
    Its checks are a few short queries: a modal must be the interaction's first answer."""
    await permit(parts.ctx, who, Action.REPLY, number)  # may they reply? (Denied, audited, if not)
    details = await queries.show(parts.ctx, who, number)
    if details.ticket.internal:  # before a draft is recorded: nobody is writing to anyone
        raise Refused(INTERNAL_REPLY)
    crowd = await collision.reply_opened(parts.ctx, who, number)
    ticket = details.ticket
    subject = reply_subject(ticket.subject, parts.ctx.config.subject_tag, ticket.number)
    to = f"their {details.reply_by_dm.capitalize()} DM" if details.reply_by_dm else ticket.requester_email
    await _tell_others(parts, crowd.others, who, number)
    return ReplyModal(parts, number, to, subject, [*warnings, *crowd.lines], text, spent)


async def open_reply_form(parts: DiscordParts, interaction: discord.Interaction, number: int | None, *,
                          text: str = "", warnings: Sequence[str] = (), spent: str = "") -> None:
    """Answer `interaction` with the Reply form, or privately with why there is none."""
    try:
        if number is None:
            raise Refused("this message is not a ticket Tiketti knows")
        modal = await reply_form(parts, parts.actor(interaction.user), number, text=text, warnings=warnings,
                                 spent=spent)
    except UserFacingError as exc:
        await answer(interaction, Answer(f"⚠️ {exc}"))
        return
    await interaction.response.send_modal(modal)


def held(parts: DiscordParts, number: int, lines: Sequence[str], text: str, user_id: int, spent: str = "") -> Answer:
    """Nothing was mailed: what happened, and the button that opens the form again with `text`."""
    return Answer(held_text(number, lines), view=ReviewReply(parts, number, text, lines, user_id, spent))


def held_text(number: int, lines: Sequence[str]) -> str:
    return cut(f"⚠️ Not sent to #{number}'s customer: {held_because(lines)}. Nothing was mailed: press "
               "**Review and send** to read your text again and send it.", 1900)


class ReviewReply(discord.ui.View):
    """*Review and send*: the held text in the Reply form again, for the agent who wrote it. Kept in
    memory for REVIEW_SECONDS (the text is theirs alone to see); after a restart, Reply on the card."""

    def __init__(self, parts: DiscordParts, number: int, text: str, lines: Sequence[str], user_id: int,
                 spent: str = "") -> None:
        super().__init__(timeout=REVIEW_SECONDS)
        self.parts, self.number, self.text, self.lines, self.user_id = parts, number, text, tuple(lines), user_id
        self.spent = spent

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.user_id:
            await answer(interaction, Answer("⚠️ this is a colleague's held reply; Reply on the card writes your own"))
            return False
        return True

    @discord.ui.button(label="Review and send", style=discord.ButtonStyle.primary)
    async def review(self, interaction: discord.Interaction, _button: discord.ui.Button[ReviewReply]) -> None:
        await open_reply_form(self.parts, interaction, self.number, text=self.text, warnings=self.lines,
                              spent=self.spent)


async def _tell_others(parts: DiscordParts, others: Sequence[str], who: Actor, number: int) -> None:
    """Whoever else has a Reply form open on the ticket hears that `who` opened one too, by DM."""
    for other in others:
        if not other.isdigit():
            continue
        try:
            dm = await parts.client.create_dm(discord.Object(int(other)))
            await dm.send(reply_opened_too(who.name or who.chat_user_id, number))
        except discord.HTTPException as exc:
            log.info("discord: could not tell user %s of a second reply (%s %s)", other, exc.status, exc.text)


def reply_opened_too(name: str, number: int) -> str:
    return cut(f"👀 {name} just opened a reply on #{number} too", 2000)
