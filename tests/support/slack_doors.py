"""Every Slack door to a ticket, as one table: what a person does there, and the tickets it needs first.

tests/test_slack_access.py walks strangers, light agents and the team's agents through this table. A
door is what Slack would send when that person uses it: a signed slash command, a click on the root's
own elements (as the fake Slack echoes them), a modal submission built by our own view functions, a
message shortcut, a reaction, a mention or a thread message. A `Scene` is set up before a door is
used (and before the store is snapshotted), so a door's effect is the person's alone; `seen` and
`answers_since` tell what a door did in Slack and whom it told.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.adapters.slack import forms, ticket_blocks
from bot.adapters.slack.blocks import plain
from bot.adapters.slack.confirm import MERGE_ANYWAY
from bot.adapters.slack.interactions import SEND_MODAL, SEND_TO_CUSTOMER
from bot.adapters.slack.undo_button import UNDO
from bot.handlers import queries, replies, tasks, tickets
from bot.handlers.context import Actor
from bot.handlers.snapshots import TicketView
from tests.support.mails import messages, raw_mail
from tests.support.people import OPERATOR
from tests.support.slack_bot import BOT_USER, CHANNEL, SlackBot, block_text, eventually
from tests.support.slack_requests import Reply, SlackRequest

CUSTOMER = "Mia Customer <mia@customer.example>"
SUBJECT, BODY = "Salary list attached", "Secret figures inside."
NOTE = "SECRET-NOTE: the card ends 4242"
SECRETS = ("Salary", "Secret figures", "SECRET-NOTE")  # never in an answer to someone refused


@dataclass
class Scene:
    """The tickets a door acts on: `main` (with an agent's thread note and a task), and what some doors
    need besides: a ticket of the same customer (merge), of another customer (merge asks first), a
    solved one (its root offers Reopen), Ana's reply on `main` held in its undo window (`held`: its message)."""

    main: int
    root: Any  # the fake's Posted root of `main`
    note: dict[str, Any]  # the agent's thread message, stored as a note
    task: int
    sibling: int = 0
    other: int = 0
    solved: int = 0
    solved_root: Any = None
    held: int = 0

    def fill(self, text: str) -> str:
        return text.format(n=self.main, sibling=self.sibling, other=self.other, solved=self.solved, task=self.task,
                           held=self.held)


async def ticket_with_root(bot: SlackBot, **mail: Any) -> tuple[int, Any]:
    number = await bot.mail(raw_mail(**mail))
    await bot.settled()
    return number, await bot.root_of(number)


async def thread_note(bot: SlackBot, root: Any, number: int, text: str, user: str = "U0ANA") -> dict[str, Any]:
    """`user` writes `text` in the ticket's thread; back when it is stored as a note."""
    event = bot.requests.message(text, user=user, thread_ts=root.ts)
    await bot.event(event)
    await eventually(lambda: _stored(bot, number, text))
    return event


async def _stored(bot: SlackBot, number: int, text: str) -> bool:
    return any(m.body_text == text for m in await messages(bot.core, number))


async def build_scene(bot: SlackBot, needs: Iterable[str] = ("sibling", "other", "solved"),
                      pull_in: str | None = None) -> Scene:
    return (await build_scenes(bot, [needs], pull_in))[0]


async def build_scenes(bot: SlackBot, wanted: Sequence[Iterable[str]], pull_in: str | None = None) -> list[Scene]:
    """One scene for each set of needs, as the team's agent (Ana) and the operator leave them; built
    together (one wait for Slack, not one per scene). `pull_in` is mentioned by Ana in the threads of
    each `main` and solved ticket, which makes them a light agent on those."""
    scenes = []
    for needs in map(set, wanted):
        main = await bot.mail(raw_mail(frm=CUSTOMER, subject=SUBJECT, body=BODY))
        scene = Scene(main, None, {}, (await tasks.add_task(bot.core.ctx, OPERATOR, main, "call the bank")).id)
        if "sibling" in needs:
            scene.sibling = await bot.mail(raw_mail(frm=CUSTOMER, subject="Salary list, again"))
        if "other" in needs:
            scene.other = await bot.mail(raw_mail(frm="Bo <bo@other.example>", subject="Another company's invoice"))
        if "solved" in needs:
            scene.solved = await bot.mail(raw_mail(frm=CUSTOMER, subject="Old salary question"))
            await tickets.close(bot.core.ctx, OPERATOR, scene.solved)
        if "held" in needs:
            scene.held = await held_reply(bot, main)
        scenes.append(scene)
    await bot.settled()
    said: list[tuple[int, str]] = []
    for scene in scenes:
        scene.root = await bot.root_of(scene.main)
        scene.solved_root = await bot.root_of(scene.solved) if scene.solved else None
        scene.note = await _say(bot, scene.root, scene.main, NOTE, said)
        if pull_in:
            await _say(bot, scene.root, scene.main, f"<@{pull_in}> can you check the bank file?", said)
            if scene.solved:
                await _say(bot, scene.solved_root, scene.solved, f"<@{pull_in}> was this one right?", said)
    for number, text in said:
        await eventually(lambda n=number, t=text: _stored(bot, n, t))  # type: ignore[misc]
    await bot.settled()
    return scenes


async def held_reply(bot: SlackBot, number: int) -> int:
    """Ana's reply on `number`, held for an hour (the suite sends at once): one she may take back. Its message."""
    ctx = bot.core.ctx
    config, ctx.config = ctx.config, dataclasses.replace(ctx.config, undo_seconds=3600)
    try:
        result = await replies.reply(ctx, Actor("U0ANA", "Ana", in_tickets_channel=True), number,
                                     "Held: your refund is on its way.")
    finally:
        ctx.config = config
    assert result.message is not None and result.held_until is not None
    return result.message.id


async def _say(bot: SlackBot, root: Any, number: int, text: str, said: list[tuple[int, str]]) -> dict[str, Any]:
    """Ana writes in a thread; `said` collects what to wait for."""
    event = bot.requests.message(text, user="U0ANA", thread_ts=root.ts)
    await bot.event(event)
    said.append((number, text))
    return event


# --- doors --------------------------------------------------------------------------------

Act = Callable[[SlackBot, Scene, str], Awaitable[Reply | None]]


@dataclass(frozen=True)
class Door:
    name: str
    act: Act
    needs: frozenset[str] = frozenset()  # what the scene must have besides `main`
    light: bool = False  # a light agent pulled into the ticket may use it (read, write notes)
    light_agents: bool = False  # about no ticket: a light agent may use it, pulled in or not (kb)
    shows: str | None = None  # a question: what the answer holds when it is allowed (else: some change)


async def _send(bot: SlackBot, request: SlackRequest) -> Reply:
    reply = await bot.send(request)
    assert reply.status == 200, reply.text
    return reply


def command(text: str) -> Act:
    return lambda bot, scene, who: _send(bot, bot.requests.command(scene.fill(text), user=who))


def click(action_id: str, *, solved: bool = False) -> Act:
    def act(bot: SlackBot, scene: Scene, who: str) -> Awaitable[Reply]:
        root = scene.solved_root if solved else scene.root
        return _send(bot, bot.requests.click(root.payload(), action_id, user=who))
    return act


def select(action_id: str, value: str) -> Act:
    def act(bot: SlackBot, scene: Scene, who: str) -> Awaitable[Reply]:
        if action_id == ticket_blocks.ASSIGN:
            return _send(bot, bot.requests.select_user(scene.root.payload(), action_id, value, user=who))
        return _send(bot, bot.requests.select_option(scene.root.payload(), action_id, value, user=who))
    return act


def pressed(action_id: str, value: str, block_id: str) -> Act:
    """A button on an answer only the presser saw (ephemeral): Slack sends the message's ts alone."""
    def act(bot: SlackBot, scene: Scene, who: str) -> Awaitable[Reply]:
        action = {"type": "button", "action_id": action_id, "block_id": scene.fill(block_id),
                  "value": scene.fill(value), "text": plain("Go", 75)}
        return _send(bot, bot.requests.block_action({"ts": "1700000000.000999"}, action, user=who, ephemeral=True))
    return act


async def _ticket(bot: SlackBot, number: int) -> TicketView:
    return (await queries.show(bot.core.ctx, OPERATOR, number)).ticket


def submit(form: str) -> Act:
    """A modal of ours submitted, as views.open would have shown it (built by the adapter's own functions)."""
    async def act(bot: SlackBot, scene: Scene, who: str) -> Reply:
        t = await _ticket(bot, scene.main)
        values: dict[str, dict[str, Any]]
        if form in (ticket_blocks.REPLY_MODAL, SEND_MODAL):
            meta = json.dumps({"ticket": t.number, "channel": CHANNEL, "opened": bot.core.ctx.clock().isoformat()})
            view = ticket_blocks.reply_modal(t, private_metadata=meta, callback_id=form)
            values = {ticket_blocks.REPLY_BLOCK: {ticket_blocks.REPLY_INPUT: "Your refund is on its way."}}
        elif form == ticket_blocks.TAGS_MODAL:
            view, values = ticket_blocks.tags_modal(t), {"tags": {"tags": "vip, bank"}}
        elif form == ticket_blocks.MOVE_MODAL:
            view = ticket_blocks.move_modal(t, [team.name for team in bot.core.ctx.config.workflow.teams] or ["it"])
            values = {"team": {"team": {"type": "static_select", "selected_option": {"text": plain("it", 75),
                                                                                     "value": "it"}}}}
        else:
            assert bot.runtime.slack is not None
            view = forms.new_ticket_modal(bot.runtime.slack.parts)
            values = {"requester": {"requester": "someone@outside.example"}, "subject": {"subject": "Hello"},
                      "body": {"body": "Written down from a call"}}
        shown = bot.slack._store_view(view, f"V0FORM{len(bot.slack.views)}")["view"]  # as views.open left it
        return await _send(bot, bot.requests.view_submission(shown, values, user=who))
    return act


def shortcut(bot: SlackBot, scene: Scene, who: str) -> Awaitable[Reply]:
    message = {**scene.note, "thread_ts": scene.root.ts}
    return _send(bot, bot.requests.message_action(message, callback_id=SEND_TO_CUSTOMER, user=who))


def react(name: str) -> Act:
    return lambda bot, scene, who: bot.event(bot.requests.reaction_added(name, user=who, item_ts=scene.root.ts))


def mention(text: str, *, solved: bool = False) -> Act:
    def act(bot: SlackBot, scene: Scene, who: str) -> Awaitable[Reply]:
        root = scene.solved_root if solved else scene.root
        return bot.event(bot.requests.app_mention(f"<@{BOT_USER}> {text}", user=who, thread_ts=root.ts))
    return act


def in_thread(bot: SlackBot, scene: Scene, who: str) -> Awaitable[Reply]:
    return bot.event(bot.requests.message("Checked with the bank: a double charge.", user=who, thread_ts=scene.root.ts))


def edit_note(bot: SlackBot, scene: Scene, who: str) -> Awaitable[Reply]:
    """The thread note edited by `who` (as Slack tells it when its author edits it)."""
    return bot.event(bot.requests.message_changed({**scene.note, "user": who}, "SECRET-NOTE, corrected"))


def _doors(*doors: Door) -> dict[str, Door]:
    table = {d.name: d for d in doors}
    assert len(table) == len(doors), "door names are unique"
    return table


SOLVED, SIBLING, OTHER = frozenset({"solved"}), frozenset({"sibling"}), frozenset({"other"})
HELD = frozenset({"held"})

DOORS = _doors(
    # /ticket, every verb that touches tickets (help says nothing about any)
    Door("/ticket show", command("show {n}"), light=True, shows=SUBJECT),
    Door("/ticket history", command("history {n}"), light=True, shows="History of"),
    Door("/ticket note", command("note {n} the bank confirmed it"), light=True),
    Door("/ticket claim", command("claim {n}")),
    Door("/ticket assign", command("assign {n} <@U0BEN|ben>")),
    Door("/ticket reply", command("reply {n} Your refund is on its way.")),
    Door("/ticket close", command("close {n}")),
    Door("/ticket reopen", command("reopen {solved}"), SOLVED),
    Door("/ticket priority", command("priority {n} urgent")),
    Door("/ticket status", command("status {n} waiting on customer")),
    Door("/ticket category", command("category {n} technical")),
    Door("/ticket tag", command("tag {n} +vip")),
    Door("/ticket move", command("move {n} it")),
    Door("/ticket merge", command("merge {sibling} into {n}"), SIBLING),
    Door("/ticket child", command("child {n} Order a spare part")),
    Door("/ticket task", command("task {n} call the customer back")),
    Door("/ticket done", command("done {task}")),
    Door("/ticket next", command("next")),
    Door("/ticket mine", command("mine"), shows="Your tickets"),
    Door("/ticket queue", command("queue"), shows="Queue"),
    Door("/ticket tasks", command("tasks"), shows="Your tasks"),
    Door("/ticket report", command("report week billing"), shows="Report"),
    Door("/ticket new", command("new")),
    Door("/ticket macros", command("macros"), shows="Refund approved"),
    Door("/ticket replies", command("replies refund"), shows="Canned replies"),
    Door("/ticket macro", command("macro {n} refund-approved")),
    Door("/ticket kb", command("kb invoice refund"), light_agents=True, shows="Knowledge base"),
    # a light agent may search (not pulled in, they find nothing: bot.handlers.search); Slack sends a picked person
    # as a mention, kept as their id by the search's dialect
    Door("/ticket search", command("search invoice status:open assignee:none"), light_agents=True, shows="Search"),
    Door("/ticket queue <view>", command("queue billing-open"), light_agents=True, shows="View billing-open"),
    Door("/ticket time", command("time {n} 25m checked the ledger")),
    Door("/ticket undo", command("undo {n}"), HELD),
    # Slack sends a typed address as a mailto link (bot.adapters.slack.escaping)
    Door("/ticket ask", command("ask {n} <mailto:expert@supplier.example|expert@supplier.example> | Is this ours?")),
    # the root message's buttons, selects and menu, and the forms they open
    Door("Claim button", click(ticket_blocks.CLAIM)),
    Door("Close button", click(ticket_blocks.CLOSE)),
    Door("Reopen button", click(ticket_blocks.REOPEN, solved=True), SOLVED),
    Door("Reply button", click(ticket_blocks.REPLY)),
    Door("Reply form submitted", submit(ticket_blocks.REPLY_MODAL)),
    Door("Assign select", select(ticket_blocks.ASSIGN, "U0BEN")),
    Door("Priority select", select(ticket_blocks.PRIORITY, "urgent")),
    Door("Category select", select(ticket_blocks.CATEGORY, "technical")),
    Door("Macro select", select(ticket_blocks.MACRO, "refund-approved")),
    Door("More: edit tags", select(ticket_blocks.MORE, "tags")),
    Door("Tags form submitted", submit(ticket_blocks.TAGS_MODAL)),
    Door("More: move to team", select(ticket_blocks.MORE, "move")),
    Door("Move form submitted", submit(ticket_blocks.MOVE_MODAL)),
    Door("New ticket form submitted", submit(forms.NEW_MODAL)),
    Door("Handle next button", pressed(forms.NEXT, "next", "queue")),
    Door("Merge anyway button", pressed(MERGE_ANYWAY, "{other}:{n}", "merge.{other}.{n}"), OTHER),
    Door("Undo button", pressed(UNDO, "{n}:{held}", "undo.{held}"), HELD),
    # the thread: the shortcut, reactions, mentions, notes
    Door("Send to customer", shortcut),
    Door("Send to customer submitted", submit(SEND_MODAL)),
    Door("eyes reaction", react("eyes")),
    Door("check mark reaction", react("white_check_mark")),
    Door("thread message", in_thread, light=True),
    Door("note edited", edit_note, light=True),
    Door("@tiketti show", mention("show"), light=True, shows=SUBJECT),
    Door("@tiketti history", mention("history"), light=True, shows="History of"),
    Door("@tiketti claim", mention("claim")),
    Door("@tiketti close", mention("close")),
    Door("@tiketti reopen", mention("reopen", solved=True), SOLVED),
    Door("@tiketti assign", mention("assign <@U0BEN>")),
    Door("@tiketti priority", mention("priority high")),
    Door("@tiketti status", mention("status waiting on customer")),
    Door("@tiketti invite", mention("invite <@U0BEN>")),
)

EVERYTHING = frozenset().union(*(d.needs for d in DOORS.values()))


@dataclass
class Seen:
    """Where things stood before a door was used: what came after is the door's."""

    responses: int
    ephemeral: int
    writes: int
    views: int  # forms offered (views that ask for input), as they stand
    mail: int
    modal_calls: int = 0  # views.open / views.update calls so far


# Slack writes anyone but the one person could see: ephemeral answers and modals (shown to the clicker
# alone) are not among them; a modal that offers a form is counted as `views`.
WRITES = ("chat.postMessage", "chat.update", "reactions.add", "files.completeUploadExternal")
MODALS = ("views.open", "views.update")


def writes(bot: SlackBot) -> int:
    return sum(len(bot.slack.calls_to(m, ok_only=True)) for m in WRITES)


def forms_offered(bot: SlackBot) -> int:
    """Open views that ask for something (an input, or a submit button); a modal saying why not is an answer.
    The forms a door submits (`submit`, V0FORM…) were open before it was used: they do not count."""
    return sum(1 for k, v in bot.slack.views.items() if not k.startswith("V0FORM") and (v.get("submit") or any(
        b.get("type") == "input" for b in v.get("blocks") or [])))


def _modal_calls(bot: SlackBot) -> list[Any]:
    return [c for c in bot.slack.calls if c.method in MODALS and c.error is None]


def seen(bot: SlackBot) -> Seen:
    return Seen(len(bot.slack.responses), len(bot.slack.ephemeral), writes(bot), forms_offered(bot),
                len(bot.sink.received), len(_modal_calls(bot)))


def answers_since(bot: SlackBot, before: Seen, who: str, reply: Reply | None) -> tuple[list[str], list[str]]:
    """What `who` alone was told since `before` (response_url, ephemeral, a modal's errors or text), and
    what anyone else was told (or what was not private)."""
    told, others = [], []
    for r in bot.slack.responses[before.responses:]:
        told.append(r.get("text", "") + "\n" + block_text(r.get("blocks") or []))
        if r.get("response_type") != "ephemeral":
            others.append(f"a response_url answer of type {r.get('response_type')!r}")
    for e in bot.slack.ephemeral[before.ephemeral:]:
        (told if e["user"] == who else others).append(e.get("text", "") + "\n" + block_text(e.get("blocks") or []))
    for call in _modal_calls(bot)[before.modal_calls:]:  # a modal is seen by whoever clicked alone
        view = call.args.get("view") or {}
        if not view.get("submit"):  # a notice (loading, refused, done), not the form itself
            told.append(block_text(view.get("blocks") or []).strip())
        else:  # a form shown again: what it says on top (modal_steps.again)
            told += [block_text([b]) for b in view.get("blocks") or [] if b.get("block_id") == "again.warning"]
    if reply is not None and reply.content_type == "application/json" and reply.text:
        if errors := reply.json().get("errors"):
            told.append("errors: " + json.dumps(errors))
    return [t for t in told if t and "Loading…" not in t], others
