"""Every platform gets every capability: each `/ticket` verb, each control of a ticket's root, each notice,
on Slack, Discord and the console.

The canonical sets come from the code itself, not from a list here: the verbs are the shared grammar's
(`bot.adapters.commands.SPECS`), the controls and notices are `bot.adapters.capabilities`, and every event
the core publishes must be a notice or shown through the thread. Each platform declares how it serves each
entry (`VERBS`, `CONTROLS`, `NOTICES`); the tests check those tables cover the sets, and that what they name
is reachable: registered with Bolt, in discord.py's command tree and persistent views, in the console's
dispatcher, subscribed to the core's events, and drawn on the root for the states `controls_for` gives.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import io
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.capabilities import NOTICE_EVENTS, THREAD_EVENTS, VERBS, Control, Notice, controls_for, controls_in
from bot.adapters.collisions import ReplyHeld
from bot.adapters.commands import SPECS
from bot.adapters.console import ConsoleAdapter, render
from bot.adapters.console import commands as console_commands
from bot.adapters.console import notices as console_notices
from bot.adapters.discord import controls as discord_controls
from bot.adapters.discord import notices as discord_notices
from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.slack import command as slack_command
from bot.adapters.slack import controls as slack_controls
from bot.adapters.slack import notices as slack_notices
from bot.adapters.slack.adapter import SlackAdapter
from bot.app import Core, build_core
from bot.chat.surface import ChatSurface
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers import events, reports
from bot.handlers.bus import EventBus
from bot.handlers.context import Actor
from bot.handlers.snapshots import TicketView
from tests.conftest import make_settings
from tests.support.db import Database

PLATFORMS = ("slack", "discord", "console")
NOW = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
WORKFLOW = ('[[teams]]\nname = "support"\n\n[[teams]]\nname = "vault"\n\n'
            '[[macros]]\nname = "spam"\ntitle = "Spam"\nstatus = "solved"\ntags = ["+spam"]\n')


class RecordingBus(EventBus):
    """The core's bus, remembering who subscribed to what: a subscriber in a platform's folder, or one of
    the chat layer's (`bot.chat`: ThreadSync, NoticeDelivery) serving that platform's surface."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribed: list[tuple[type, Any]] = []

    def subscribe(self, event_type: type, fn: Any) -> None:
        self.subscribed.append((event_type, fn))
        super().subscribe(event_type, fn)

    def events_of(self, platform: str) -> set[type]:
        return {t for t, fn in self.subscribed if fn.__module__.startswith(f"bot.adapters.{platform}.")
                or (fn.__module__.startswith("bot.chat.") and getattr(fn.__self__, "platform", None) == platform)}


@dataclasses.dataclass
class Platforms:
    core: Core
    bus: RecordingBus
    slack: SlackAdapter
    discord: DiscordAdapter
    console: ConsoleAdapter


@pytest.fixture
async def platforms(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[Platforms]:
    """All three adapters built on one core, as `tiketti run` and the demo build them; nothing connects."""
    (tmp_path / "workflow.toml").write_text(WORKFLOW)
    settings = make_settings(sqlite_database, tmp_path, workflow_file=tmp_path / "workflow.toml",
                             slack_bot_token="xoxb-parity", slack_signing_secret="parity", slack_channel="C0TICKETS",
                             discord_token="parity", discord_channel="1100000000000000003",
                             discord_guild="1100000000000000002")
    core = await build_core(settings, engine=sqlite_database.engine())
    bus = RecordingBus()
    core.ctx.bus = bus
    slack, discord = SlackAdapter(core.ctx, settings), DiscordAdapter(core.ctx, settings)
    discord.client.register()  # what setup_hook registers once logged in
    console = ConsoleAdapter(core.ctx, io.StringIO())
    console.subscribe()
    try:
        yield Platforms(core, bus, slack, discord, console)
    finally:
        await core.close()


def ticket(status: Status = Status.OPEN, **changes: Any) -> TicketView:
    values: dict[str, Any] = dict(number=7, subject="Printer on fire", requester="Mia <mia@example.com>",
                                  requester_email="mia@example.com", status=status, priority=Priority.NORMAL,
                                  assignee=None, assignee_chat_id=None, team="support", tags=(), created_at=NOW,
                                  updated_at=NOW, first_response_at=None, solved_at=None, category="billing")
    return TicketView(**{**values, **changes})


def states() -> Iterator[TicketView]:
    """A ticket in every state that changes its controls."""
    for status in Status:
        yield ticket(status)
    yield ticket(internal=True, requester_email="")
    yield ticket(Status.SOLVED, internal=True, requester_email="")
    yield ticket(assignee="Ana", assignee_chat_id="1000000000000000001")


# ---- the canonical sets -------------------------------------------------------------------------------

def test_every_event_the_core_publishes_is_a_notice_or_shown_in_the_thread() -> None:
    published = {c for _, c in inspect.getmembers(events, inspect.isclass)
                 if c.__module__ == events.__name__ and dataclasses.is_dataclass(c)}
    assert published == set(NOTICE_EVENTS) | set(THREAD_EVENTS)
    assert set(NOTICE_EVENTS.values()) == set(Notice) - {Notice.COLLISION}  # the one the reply paths raise
    assert VERBS == set(SPECS) and {"new", "report", "reply", "merge"} <= VERBS


def test_a_root_offers_the_controls_its_state_allows() -> None:
    assert controls_for(ticket(Status.CLOSED)) == ()
    assert controls_for(ticket(Status.SOLVED)) == (Control.REPLY, Control.REOPEN)
    assert Control.REPLY not in controls_for(ticket(internal=True))
    assert set(controls_for(ticket(), categories=True, teams=True, macros=True)) == set(Control) - {Control.REOPEN}
    assert {c for t in states() for c in controls_for(t, categories=True, teams=True, macros=True)} == set(Control)


# ---- verbs ---------------------------------------------------------------------------------------------

async def test_every_verb_is_served_on_every_platform(platforms: Platforms) -> None:
    assert set(slack_command.VERBS) == VERBS
    assert set(console_commands.VERBS) == VERBS
    # Discord holds at most 25 subcommands in one command: `/ticket` works a ticket, `/helpdesk` is the toolkit
    ticket, toolkit = platforms.discord.client.tree.get_commands(guild=platforms.discord.client.guild)
    assert (ticket.name, toolkit.name) == ("ticket", "helpdesk")
    served = [c.name for group in (ticket, toolkit) for c in group.commands]  # type: ignore[union-attr]
    assert len(served) == len(set(served)) and set(served) == VERBS
    assert await _slack_handles(platforms.slack, {"command": "/ticket", "text": "help", "user_id": "U1"})
    assert not await _slack_handles(platforms.slack, {"command": "/tickets", "text": "help", "user_id": "U1"})


# ---- controls ------------------------------------------------------------------------------------------

async def test_every_control_is_drawn_and_handled_on_every_platform(platforms: Platforms) -> None:
    wf = platforms.core.ctx.config.workflow
    categories, teams = list(wf.categories), [t.name for t in wf.teams]
    assert set(slack_controls.CONTROLS) == set(Control) == set(discord_controls.CONTROLS)
    registered = {item.custom_id for view in platforms.discord.client.persistent_views  # type: ignore[attr-defined]
                  for item in view.children}
    assert not await _slack_handles(platforms.slack, _block_action("ticket.nothing", None))  # the check can fail
    for control in Control:
        action_id, menu = slack_controls.CONTROLS[control]
        assert await _slack_handles(platforms.slack, _block_action(action_id, menu)), control
        assert discord_controls.CONTROLS[control] in registered, control
        assert control.verb in console_commands.VERBS, control  # typed on the console
    for t in states():
        wanted = controls_in(wf, t)
        block = slack_controls.actions_block(t, categories, teams, wf.macros_for(t.team))
        slack_shown = [_slack_control(e) for e in (block or {}).get("elements", [])]
        assert [c for c in wanted if slack_controls.CONTROLS[c][1] is None] == [c for c in slack_shown if c]
        menu_shown = [o["value"] for e in (block or {}).get("elements", []) if e["type"] == "overflow"
                      for o in e["options"]]
        assert menu_shown == [slack_controls.CONTROLS[c][1] for c in wanted if slack_controls.CONTROLS[c][1]]
        card = discord_controls.TicketControls(platforms.discord.parts, t)
        assert {i.custom_id for i in card.children} == {discord_controls.card_id(c, t.number) for c in wanted}  # type: ignore[attr-defined]
        hint = render.actions(t, wanted)
        assert all(f"[{c.verb}]" in hint for c in wanted) and (t.status == Status.CLOSED or "[note]" in hint)


def _slack_control(element: dict[str, Any]) -> Control | None:
    return next((c for c, (action_id, menu) in slack_controls.CONTROLS.items()
                 if action_id == element["action_id"] and menu is None), None)


def _block_action(action_id: str, menu: str | None) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": action_id, "block_id": "ticket.7.actions.1", "type": "button", "value": "7"}
    if menu:
        action.update(type="overflow", selected_option={"value": menu})
    return {"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "actions": [action],
            "channel": {"id": "C0TICKETS"}, "trigger_id": "1.2.3"}


async def _slack_handles(adapter: SlackAdapter, body: dict[str, Any]) -> bool:
    """Some listener registered with the Bolt app takes this payload (no listener runs)."""
    request = AsyncBoltRequest(body=body, mode="socket_mode")
    listeners = adapter.app._async_listeners  # Bolt keeps no public list; the matchers are its own
    return any([await listener.async_matches(req=request, resp=BoltResponse(status=200)) for listener in listeners])


# ---- notices -------------------------------------------------------------------------------------------

async def test_every_notice_is_subscribed_and_worded_on_every_platform(platforms: Platforms) -> None:
    tables = {"slack": slack_notices.NOTICES, "discord": discord_notices.NOTICES, "console": console_notices.NOTICES}
    samples = await _samples(platforms.core)
    for platform in PLATFORMS:
        assert set(tables[platform]) == set(Notice), platform
        assert platforms.bus.events_of(platform) >= set(NOTICE_EVENTS), platform
        for notice, (cause, marker) in samples.items():
            words = _words(platform, tables[platform], notice, cause)
            assert marker.lower() in words.lower(), (platform, notice, words[:200])


def _words(platform: str, table: dict[Notice, Any], notice: Notice, cause: object) -> str:
    if platform == "console":
        return console_notices.words(notice, cause, NOW) if notice != Notice.COLLISION else table[notice](cause)
    shown = table[notice](cause, NOW)
    return shown if isinstance(shown, str) else str(shown.get("text", "")) + str(shown.get("blocks", ""))


async def _samples(core: Core) -> dict[Notice, tuple[object, str]]:
    """One cause of each notice kind, and a word every platform's notice must show."""
    t, due = ticket(), NOW + timedelta(minutes=20)
    digest = await reports.report_for(core.ctx, Actor("console", "Op", operator=True), NOW - timedelta(days=1), NOW,
                                      None, core.ctx.config.timezone)
    return {
        Notice.SLA_WARNING: (events.SlaWarning(t, "first_response", due, None), "#7"),
        Notice.SLA_BREACH: (events.SlaBreached(t, "resolution", NOW, "U1"), "breached"),
        Notice.TASK_DUE: (events.TaskDue(3, t, "call the customer back", "U1"), "call the customer back"),
        Notice.EXPERT_ANSWERED: (events.ExpertAnswered(t, "expert@supplier.example", 9, "U1"), "expert@supplier.example"),
        Notice.QUARANTINE: (events.MailQuarantined(12, "x@example.com", "Hi", "not a mail", "pipe"), "#12"),
        Notice.DELIVERY_FAILED: (events.MailDeliveryFailed(t, "mia@example.com", "Re: Hi", "550 no"), "mia@example.com"),
        Notice.MOVED: (events.TicketMoved(7, "support", "vault"), "vault"),
        Notice.DIGEST: (events.DigestReady(report=digest, charts=()), "digest"),
        Notice.COLLISION: (ReplyHeld(7, ["Ben replied to the customer just now"], "Hello"), "Ben replied"),
        Notice.POST_FAILED: (events.ChatPostFailed(t, "slack", "C0BILLING", "a reply", "42", "not_in_channel",
                                                   "the bot is not in the channel", "/invite @Tiketti", "channel"),
                             "/invite @Tiketti"),
    }



# ---- surfaces ------------------------------------------------------------------------------------------

PORT_METHODS = {name: fn for name, fn in vars(ChatSurface).items() if inspect.isfunction(fn) and not name.startswith("_")}
PORT_ATTRIBUTES = tuple(inspect.get_annotations(ChatSurface))  # platform, default_channel


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_has_a_surface_with_every_port_method(platform: str) -> None:
    """Found by module path, so a platform without `surface.py` fails here (nothing is skipped)."""
    module = importlib.import_module(f"bot.adapters.{platform}.surface")
    classes = [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == module.__name__
               and any(hasattr(c, name) for name in PORT_METHODS)]  # not its helpers and errors
    gaps = {c.__name__: surface_gaps(c) for c in classes if getattr(c, "platform", platform) == platform}
    assert any(not found for found in gaps.values()), f"no surface for {platform} in {module.__name__}: {gaps}"


def surface_gaps(cls: type) -> list[str]:
    """What `cls` lacks of `ChatSurface`: a method, its async-ness, a parameter the chat layer passes, an attribute."""
    gaps = []
    for name, port in PORT_METHODS.items():
        impl = getattr(cls, name, None)
        if not callable(impl):
            gaps.append(f"{name}: missing")
            continue
        if inspect.iscoroutinefunction(port) != inspect.iscoroutinefunction(impl):
            gaps.append(f"{name}: {'async' if inspect.iscoroutinefunction(port) else 'plain'} def expected")
        wanted, taken = inspect.signature(port).parameters, inspect.signature(impl).parameters
        for p in wanted.values():
            q = taken.get(p.name)
            if q is None or q.kind != p.kind:
                gaps.append(f"{name}: takes no {p.kind.description} parameter {p.name!r}")
        gaps += [f"{name}: requires {q.name!r}, which the chat layer never passes" for q in taken.values()
                 if q.name not in wanted and q.default is q.empty and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD)]
    sources = "".join(inspect.getsource(c) for c in cls.__mro__ if c.__module__.startswith(("bot.", "tests.")))
    gaps += [f"{attr}: never set" for attr in PORT_ATTRIBUTES
             if not hasattr(cls, attr) and not re.search(rf"self\.{attr}\s*=", sources)]
    return gaps


def test_a_surface_missing_a_method_or_a_parameter_is_found_out() -> None:
    """The check above can fail: a class without `post_move`, and one whose post_root drops `replaces`."""
    from bot.adapters.console.surface import ConsoleSurface

    class NoMove(ConsoleSurface):
        post_move = None  # type: ignore[assignment]

    class NoReplaces(ConsoleSurface):
        async def post_root(self, channel: str, ticket: TicketView, *, key: str, maybe_posted: bool) -> str:  # type: ignore[override]
            return ""

    assert surface_gaps(ConsoleSurface) == []
    assert surface_gaps(NoMove) == ["post_move: missing"]
    assert surface_gaps(NoReplaces) == ["post_root: takes no keyword-only parameter 'replaces'"]
