"""Every Discord door, tried by a stranger and a light agent, then by an agent, on SQLite and PostgreSQL.

The doors are one table: each `/ticket` subcommand Discord registers, each control of a ticket's card (buttons
and selects), the submit of each form (Reply, Tags, Move, New ticket), a message typed in the ticket's thread,
and the *Merge anyway* confirmation. The table is checked against what the bot registers and shows, so a new
door cannot be left out.

A stranger (Eva: she sees /ticket and the tickets channel, but the roster does not name her) and a light
agent (Lee) not pulled in are refused at every door but the two searches (`search` and `kb`, which light agents
may use): a private answer (ephemeral; for a thread message, a DM), an audit row, and nothing else: no change in
the store, no Discord write, no mail. Pulled into the ticket, Lee reads it and writes notes, and is refused the
rest. Ben, billing's agent, gets through every door.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.adapters.discord import controls
from bot.store import orm
from tests.support.db import Database
from tests.support.discord_bot import ANA, BEN, EVA, LEE, DiscordBot, action_of, roster_discord_bot
from tests.support.discord_doors import public_writes, refusals, store_state
from tests.support.fake_discord import Response
from tests.support.mails import raw_mail
from tests.support.slack_bot import eventually

Json = dict[str, Any]
SECRET = "SECRET-NOTE: the customer's card ends 4242"
SUBJECT = "Invoice twice"


@dataclass
class Desk:
    """The tickets the doors act on: #a (Mia's), #b (Mia's too: merged into #a), #c (Olli's: merged into #a
    only when confirmed), #d (unassigned, for /ticket next); a task on #a, #a's thread, Ben's merge question,
    and Ben's reply on #a held in its undo window (for /helpdesk undo)."""

    a: int
    b: int
    c: int
    d: int
    task: int
    thread: Json
    question: Json


@dataclass(frozen=True)
class Door:
    name: str  # the subcommand, or the control's custom id, or a form (FORMS) / thread / merge-anyway
    kind: str = "slash"  # slash, button, select, form, thread, confirm
    options: Callable[[Desk], dict[str, Any]] = field(default=lambda d: {"number": d.a})
    light: bool = False  # pulled into the ticket, a light agent may use it
    open: bool = False  # shows no ticket data and changes nothing: answered for everyone, not refused
    reads: bool = False  # the agent's success shows something and changes nothing
    light_agents: bool = False  # about no ticket: a light agent may use it, pulled in or not (kb)


def slash(sub: str, /, *, light: bool = False, reads: bool = False, **fixed: Any) -> Door:
    """`/ticket sub` on #a with `fixed` options (a callable option is read from the desk)."""
    def options(d: Desk) -> dict[str, Any]:
        return {"number": d.a, **{k: v(d) if callable(v) else v for k, v in fixed.items()}}
    return Door(sub, "slash", options, light=light, reads=reads)


def ticketless(name: str, *, light_agents: bool = False, **fixed: Any) -> Door:
    return Door(name, "slash", lambda d: dict(fixed), reads=True, light_agents=light_agents)


def pick(custom_id: str, *values: str) -> Door:
    """A pick in one of the card's selects (a member's id for Assign)."""
    return Door(custom_id, "select", lambda d: {"values": list(values)})


def form(name: str, **fields: str) -> Door:
    """The submit of a form Ben opened (FORMS), with `fields` by custom id (or one text everywhere)."""
    return Door(name, "form", lambda d: {"fields": fields or None})


# How Ben opens each form before someone submits it: a card's button, or a subcommand.
FORMS: dict[str, tuple[str, str]] = {
    "form": ("button", controls.REPLY), "tags-form": ("button", controls.TAGS),
    "move-form": ("button", controls.MOVE), "new-form": ("slash", "new"),
}


# In the order the agent goes through them (each leaves #a ready for the next).
DOORS: tuple[Door, ...] = (
    Door("help", options=lambda d: {}, open=True),
    slash("show", light=True, reads=True),
    slash("history", light=True, reads=True),
    slash("note", light=True, text="checked the ledger"),
    Door("thread", "thread", light=True),
    ticketless("mine"), ticketless("queue"), ticketless("tasks"), ticketless("report", period="week", team="billing"),
    ticketless("new"),
    form("new-form", **{"tiketti:new-requester": "caller@customer.example", "tiketti:new-subject": "Phoned in",
                        "tiketti:new-body": "Wants a callback"}),
    slash("claim"),
    slash("assign", member=ANA["id"]),
    Door(controls.CLAIM, "button"),
    pick(controls.ASSIGN, ANA["id"]),
    slash("priority", level="urgent"),
    pick(controls.PRIORITY, "high"),
    slash("category", name="technical"),
    pick(controls.CATEGORY, "billing"),
    slash("tag", tags="+vip"),
    Door(controls.TAGS, "button", reads=True),
    form("tags-form", **{"tiketti:tags-text": "vip, refund"}),
    slash("task", text="call the bank"),
    Door("done", options=lambda d: {"task": d.task}),
    Door(controls.REPLY, "button"),
    Door("form", "form"),
    slash("reply", text="We refunded the second charge."),
    slash("close"),
    slash("reopen"),
    Door(controls.CLOSE, "button"),
    Door(controls.REOPEN, "button"),
    slash("status", status="waiting_on_customer"),
    slash("child", subject="Ask finance for the refund slip"),
    Door(controls.MOVE, "button", reads=True),
    form("move-form", **{"tiketti:move-team": "vault"}),
    slash("move", team="billing"),
    slash("merge", number=lambda d: d.b, into=lambda d: d.a),
    Door("merge-anyway", "confirm"),
    ticketless("next"),
    # the toolkit (/helpdesk, issue 14)
    # a light agent may search: not pulled in, they find nothing (bot.handlers.search), but are not refused
    ticketless("search", query="invoice", light_agents=True), ticketless("kb", words="invoice", light_agents=True),
    ticketless("replies"),
    ticketless("macros"),
    slash("macro", name="refund-approved"),
    pick(controls.MACRO, "refund-approved"),
    slash("time", spent="25m", what="checked the ledger"),
    slash("ask", expert="expert@supplier.example", question="Is this charge ours?"),
    slash("undo"),
)


async def _desk(bot: DiscordBot) -> Desk:
    a = await bot.mail(raw_mail(frm="Mia <mia@customer.example>", subject=SUBJECT))
    b = await bot.mail(raw_mail(frm="Mia <mia@customer.example>", subject="Invoice again"))
    c = await bot.mail(raw_mail(frm="Olli <olli@other.example>", subject="My invoice too"))
    d = await bot.mail(raw_mail(frm="Pia <pia@customer.example>", subject="Password reset"))
    bot.discord.join(ANA, [bot.discord.support_role["id"], _role(bot, "Helpdesk")])  # a second agent, to assign to
    await bot.slash("note", BEN, number=a, text=SECRET)
    await bot.slash("task", BEN, number=a, text="check the invoice run")
    asked = await bot.slash("merge", BEN, number=c, into=a)
    await bot.slash("claim", ANA, number=a)  # Ana's: Ben's held reply leaves #a for his claim door to take
    await _held_reply(bot, a)  # for /helpdesk undo
    async with bot.core.engine.connect() as conn:
        task = (await conn.execute(select(orm.tasks.c.id))).scalar_one()
    await bot.settled()
    return Desk(a, b, c, d, task, await bot.thread_of(a), asked.followups[0])


async def _held_reply(bot: DiscordBot, number: int) -> None:
    """Ben replies on #a with replies held for an hour (the suite sends at once): a reply he may take back."""
    ctx = bot.core.ctx
    config, ctx.config = ctx.config, dataclasses.replace(ctx.config, undo_seconds=3600)
    try:
        held = await bot.slash("reply", BEN, number=number, text="We refunded the second charge; details follow.")
        assert "Sending" in held.followups[0]["content"], held
    finally:
        ctx.config = config


def _role(bot: DiscordBot, name: str) -> str:
    return next(r["id"] for r in bot.discord.server.roles.values() if r["name"] == name)


async def _prepare(bot: DiscordBot, desk: Desk, door: Door) -> Response | None:
    """What a door needs before the snapshot: for a form's submit, Ben opens the form (whoever sends it)."""
    if door.kind != "form":
        return None
    how, name = FORMS[door.name]
    opened = await bot.click(name, desk.thread, BEN) if how == "button" else await bot.slash(name, BEN)
    assert opened.kind == 9, opened
    return opened


async def _use(bot: DiscordBot, desk: Desk, door: Door, user: Json, form: Response | None) -> Response | None:
    """`user` goes through `door`; the answer they get (None for a thread message: a thread has no answer)."""
    match door.kind:
        case "slash":
            return await bot.slash(door.name, user, **door.options(desk))
        case "button":
            return await bot.click(door.name, desk.thread, user)
        case "select":
            return await bot.choose(door.name, desk.thread, user, door.options(desk)["values"])
        case "form":
            assert form is not None
            return await bot.submit_modal(form, user, bot.discord.tickets_channel, "Sent from the form",
                                          fields=door.options(desk).get("fields"))
        case "thread":
            await bot.say(desk.thread["id"], user, "let me add something")
            return None
        case "confirm":
            return await bot.press(desk.question, user)
    raise AssertionError(door.kind)


def _said(response: Response) -> tuple[str, bool]:
    """What the person was told, and whether only they saw it."""
    if response.kind == 9:
        return "(a form)", True
    if response.kind == 5:
        said = response.followups[0]
        return said["content"], bool(response.data.get("flags", 0) & 64 and said["flags"] & 64)
    return response.data.get("content", ""), response.ephemeral


async def _go_through(bot: DiscordBot, desk: Desk, door: Door, user: Json) -> tuple[Response | None, Any, int]:
    """`user` uses `door` once the bot is idle; the answer, the store before, and the user's refusals before."""
    form = await _prepare(bot, desk, door)
    before, tried = await store_state(bot.core), await refusals(bot.core, user)
    response = await _use(bot, desk, door, user, form)
    if response is None:  # a thread message has no answer: wait for the core's verdict

        async def decided() -> bool:
            return await refusals(bot.core, user) > tried or await store_state(bot.core) != before
        await eventually(decided)
    return response, before, tried


async def _refused(bot: DiscordBot, desk: Desk, door: Door, user: Json) -> list[str]:
    response, before, tried = await _go_through(bot, desk, door, user)
    said, private = _said(response) if response is not None else (await _told_by_dm(bot, user), True)
    problems = []
    if not private or not said.startswith("⚠️"):
        problems.append(f"{door.name}: not refused privately, said {said[:100]!r}")
    if SECRET in said or SUBJECT in said:
        problems.append(f"{door.name}: leaked the ticket")
    if await store_state(bot.core) != before:
        problems.append(f"{door.name}: the store changed")
    if (audited := await refusals(bot.core, user) - tried) != 1:
        problems.append(f"{door.name}: {audited} audit rows, not 1")
    return problems


async def _told_by_dm(bot: DiscordBot, user: Json) -> str:
    """A refused thread message is answered by DM (a thread has no private answer), once per thread."""
    dm = bot.discord.dm_channel(user)
    [told] = await eventually(lambda: [m for m in bot.discord.in_channel(dm["id"]) if m["author"]["bot"]])
    return "⚠️ " + told["content"]


async def _let_through(bot: DiscordBot, desk: Desk, door: Door, user: Json) -> list[str]:
    response, before, tried = await _go_through(bot, desk, door, user)
    said, private = _said(response) if response is not None else ("", True)
    if said.startswith("⚠️") or not private or await refusals(bot.core, user) != tried:
        return [f"{door.name}: {said[:160]!r}"]
    if door.reads or door.open:
        return []

    async def changed() -> bool:
        return await store_state(bot.core) != before
    try:
        await eventually(changed, timeout=5)
    except AssertionError:
        return [f"{door.name}: nothing changed"]
    return []


async def _every_door(bot: DiscordBot, desk: Desk, user: Json, may: Callable[[Door], bool]) -> list[str]:
    """`user` tries every door: refused where `may` says no (with no Discord write but the private answers,
    and no mail), let through where it says yes (in the table's order); what went wrong, in one list."""
    problems: list[str] = []
    writes, mails = len(public_writes(bot.discord, user)), len(bot.sink.received)
    for door in [d for d in DOORS if not may(d)]:
        problems += await _refused(bot, desk, door, user)
    await bot.settled()
    if len(public_writes(bot.discord, user)) != writes:
        problems.append(f"Discord writes besides the private answers: {public_writes(bot.discord, user)[writes:]}")
    if len(bot.sink.received) != mails:
        problems.append("mail was sent")
    for door in [d for d in DOORS if may(d)]:
        problems += await _let_through(bot, desk, door, user)
    return problems


async def _offered(bot: DiscordBot, desk: Desk) -> None:
    """The table names every door the bot offers: each registered subcommand, each control the bot registers
    for the cards (a card shows some of them, as its ticket stands)."""
    assert len({d.name for d in DOORS}) == len(DOORS)
    registered = {o["name"] for command in bot.discord.commands for o in command["options"]}  # /ticket, /helpdesk
    assert bot.runtime.discord is not None
    handled = {item.custom_id for view in bot.runtime.discord.client.persistent_views  # type: ignore[attr-defined]
               for item in view.children if getattr(item, "custom_id", None)}
    card = bot.starter(desk.thread)
    shown = {action_of(c["custom_id"]) for row in card["components"] for c in row["components"]}
    confirm = {c["custom_id"].rsplit(":", 2)[0] for row in desk.question["components"] for c in row["components"]}
    assert {d.name for d in DOORS if d.kind == "slash"} == registered
    assert {d.name for d in DOORS if d.kind in ("button", "select")} == handled and shown <= handled
    assert {d.name for d in DOORS if d.kind == "form"} == set(FORMS)
    assert confirm == {"tiketti:merge"}


async def test_strangers_and_light_agents_are_refused_at_every_door(database: Database, tmp_path: Path) -> None:
    async with roster_discord_bot(database, tmp_path) as bot:
        desk = await _desk(bot)
        await _offered(bot, desk)
        for someone in (EVA, LEE):  # typing a number offers them nothing, and is no attempt to audit
            assert await bot.autocomplete("show", someone, "number", "") == []
        assert await refusals(bot.core) == 0
        assert await _every_door(bot, desk, EVA, lambda door: door.open) == []
        assert await _every_door(bot, desk, LEE, lambda door: door.open or door.light_agents) == []

        await bot.say(desk.thread["id"], BEN, f"<@{LEE['id']}> is this charge familiar?", mentions=[LEE])

        async def pulled_in() -> bool:
            async with bot.core.engine.connect() as conn:
                return bool((await conn.execute(select(orm.collaborators))).all())
        await eventually(pulled_in)
        await bot.settled()
        assert await _every_door(bot, desk, LEE, lambda door: door.open or door.light or door.light_agents) == []


async def test_an_agent_gets_through_every_door(database: Database, tmp_path: Path) -> None:
    async with roster_discord_bot(database, tmp_path) as bot:
        desk = await _desk(bot)
        assert await _every_door(bot, desk, BEN, lambda door: True) == []
        assert await refusals(bot.core) == 0
