"""The thread flows of `bot.chat.notes` once, without a chat platform: a recorder stands in for the thread.

A line typed in a ticket's thread becomes a note (once per chat_ref), pulls in the
colleagues it mentions, and a refusal is told to its author alone; an edit follows
its note, a refused edit is told once; a reaction claims. Slack's and Discord's
tests prove their translation into these flows; here the flows themselves are held
to what they promise, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.app import Core
from bot.chat import notes
from bot.chat.notes import Edit, Line, Once, Reaction, Tone
from bot.domain.model import MessageKind
from bot.handlers import threads
from bot.handlers.context import Actor
from bot.handlers.snapshots import TicketDetails
from tests.support.mails import deliver, messages, raw_mail, ticket
from tests.support.store_state import refusals, store_state

PLATFORM = "chat-test"  # a platform of no team's: its threads live where the test says
CHANNEL, ROOT = "C1", "R1"
ANA = Actor("U1", "Ana Agent", in_tickets_channel=True)
BEN = Actor("U2", "Ben Agent", in_tickets_channel=True)
OUT = Actor("U9", "Olli Outsider")  # not in the tickets channel: a stranger to the helpdesk
PEOPLE = {a.chat_user_id: a for a in (ANA, BEN, OUT)}


@dataclass
class Recorder:
    """`notes.ThreadPort` that keeps what the flows asked of the platform."""

    private_in_thread: bool = True
    people: dict[str, Actor] = field(default_factory=lambda: dict(PEOPLE))
    told: list[tuple[str, str, Tone]] = field(default_factory=list)
    posted: list[tuple[int, list[str]]] = field(default_factory=list)

    async def actor_of(self, user: str) -> Actor:
        return self.people[user]

    async def tell(self, user: str, text: str, tone: Tone) -> None:
        self.told.append((user, text, tone))

    async def post_pulled_in(self, details: TicketDetails, users: Sequence[str]) -> None:
        self.posted.append((details.ticket.number, list(users)))


async def ticket_with_thread(core: Core) -> int:
    """A ticket from a customer's mail, shown in thread ROOT of CHANNEL."""
    outcome = await deliver(core, raw_mail(subject="Printer is broken"))
    assert outcome.ticket_number is not None
    number = outcome.ticket_number
    work = await threads.begin_sync(core.ctx, PLATFORM, number, CHANNEL, "test")
    assert work is not None
    await threads.end_sync(core.ctx, PLATFORM, number, "test", root_ref=ROOT)
    return number


def line(user: Actor, text: str, ref: str, *, mentions: Sequence[str] = (), root: str = ROOT) -> Line:
    return Line(PLATFORM, CHANNEL, root, user.chat_user_id, text, f"{PLATFORM}:{CHANNEL}:{ref}", mentions=mentions,
                bot_mention="<@BOT>")


async def notes_of(core: Core, number: int) -> list[str]:
    return [m.body_text for m in await messages(core, number) if m.kind == MessageKind.NOTE]


async def collaborators(core: Core, number: int) -> set[str]:
    async with core.ctx.uow() as uow:
        ids = {c.agent_id for c in await uow.collaborators.for_ticket(number)}
        return {a.chat_user_id for a in [await uow.agents.by_chat_user_id(u) for u in PEOPLE] if a and a.id in ids}


async def test_a_line_is_stored_as_a_note_once_per_chat_ref(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    assert await notes.note_typed(core.ctx, line(ANA, "checked the logs", "m1"), port, told) == number
    assert await notes.note_typed(core.ctx, line(ANA, "checked the logs", "m1"), port, told) is None  # redelivered
    assert await notes_of(core, number) == ["checked the logs"]
    assert port.told == [] and port.posted == []


async def test_lines_elsewhere_and_commands_are_no_notes(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    assert await notes.note_typed(core.ctx, line(ANA, "<@BOT> close", "m1"), port, told) is None
    assert await notes.note_typed(core.ctx, line(ANA, "chat about lunch", "m2", root="R-OTHER"), port, told) is None
    assert await notes_of(core, number) == [] and port.told == []
    assert notes.command_in("  <@BOT> claim now", "<@BOT>") == "claim now"
    assert notes.command_in("ask <@BOT> later", "<@BOT>") is None and notes.command_in("<@BOT> hi", None) is None


async def test_a_mention_pulls_in_a_colleague_with_a_summary(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    text = "<@U2> can you look? <@U2> <@U1>"  # a repeat and the author themself are left out
    await notes.note_typed(core.ctx, line(ANA, text, "m1", mentions=["U2", "U2", "U1"]), port, told)
    assert await collaborators(core, number) == {"U2"}
    assert port.posted == [(number, ["U2"])] and port.told == []
    await notes.note_typed(core.ctx, line(ANA, "<@U2> again", "m2", mentions=["U2"]), port, told)
    assert port.posted == [(number, ["U2"])], "someone already on the ticket is not announced again"


async def test_a_strangers_line_is_refused_and_told_to_them_alone(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    state, tried = await store_state(core), len(await refusals(core, OUT))
    assert await notes.note_typed(core.ctx, line(OUT, "<@U2> hello", "m1", mentions=["U2"]), port, told) is None
    [(user, text, tone)] = port.told
    assert (user, tone) == ("U9", Tone.DENIED) and f"#{number} was not saved" in text and "only" in text
    assert "Printer" not in text, "a refusal shows nothing of the ticket"
    assert port.posted == [] and await store_state(core) == state, "no note, nobody pulled in"
    assert len(await refusals(core, OUT)) == tried + 1


async def test_where_the_answer_is_a_dm_a_person_hears_once_per_thread(core: Core) -> None:
    await ticket_with_thread(core)
    port, told = Recorder(private_in_thread=False), Once()
    for ref in ("m1", "m2"):
        await notes.note_typed(core.ctx, line(OUT, "hello?", ref), port, told)
    assert [t[0] for t in port.told] == ["U9"]
    in_thread = Recorder()  # an answer inside the thread (Slack's ephemeral) is given every time
    for ref in ("m3", "m4"):
        await notes.note_typed(core.ctx, line(OUT, "hello?", ref), in_thread, told)
    assert [t[0] for t in in_thread.told] == ["U9", "U9"]


async def test_a_pulled_in_outsider_may_note_but_not_pull_in_others(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    await notes.note_typed(core.ctx, line(ANA, "<@U9> you know this printer", "m1", mentions=["U9"]), port, told)
    assert await collaborators(core, number) == {"U9"}
    await notes.note_typed(core.ctx, line(OUT, "<@U2> have a look too", "m2", mentions=["U2"]), port, told)
    assert await notes_of(core, number) == ["<@U9> you know this printer", "<@U2> have a look too"]
    assert await collaborators(core, number) == {"U9"}, "the note stands, the pull-in was refused"
    [(user, text, tone)] = port.told
    assert (user, tone) == ("U9", Tone.WARNING) and f"Ben Agent was not pulled into #{number}" in text


async def test_an_edit_updates_its_note(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    await notes.note_typed(core.ctx, line(ANA, "first thought", "m1"), port, told)
    ref = f"{PLATFORM}:{CHANNEL}:m1"
    assert await notes.note_edited(core.ctx, Edit("U1", ref, "second thought", ROOT), port, told)
    assert await notes_of(core, number) == ["second thought"]
    assert not await notes.note_edited(core.ctx, Edit("U1", f"{PLATFORM}:{CHANNEL}:not-a-note", "x"), port, told)
    assert port.told == []


async def test_a_refused_edit_is_told_once_and_the_note_keeps_its_words(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    await notes.note_typed(core.ctx, line(ANA, "Ana's words", "m1"), port, told)
    port.people["U1"] = Actor("U1", "Ana Agent")  # she left the helpdesk's channel
    ref = f"{PLATFORM}:{CHANNEL}:m1"
    for text in ("edited once", "edited once", "edited twice"):  # a redelivery, then another edit
        assert not await notes.note_edited(core.ctx, Edit("U1", ref, text, ROOT), port, told)
    [(user, text, tone)] = port.told
    assert (user, tone) == ("U1", Tone.DENIED) and "edit was not applied" in text
    assert await notes_of(core, number) == ["Ana's words"]


async def test_a_reaction_on_the_root_claims_and_a_strangers_is_refused(core: Core) -> None:
    number, port, told = await ticket_with_thread(core), Recorder(), Once()
    await notes.reacted(core.ctx, Reaction(PLATFORM, CHANNEL, ROOT, "U9", "eyes"), port, told)
    assert [(u, tone) for u, _, tone in port.told] == [("U9", Tone.WARNING)]
    await notes.reacted(core.ctx, Reaction(PLATFORM, CHANNEL, ROOT, "U1", "thumbsup"), port, told)  # means nothing
    await notes.reacted(core.ctx, Reaction(PLATFORM, CHANNEL, "R-OTHER", "U1", "eyes"), port, told)  # no ticket's root
    t = await ticket(core, number)
    assert t is not None and t.assignee_id is None
    await notes.reacted(core.ctx, Reaction(PLATFORM, CHANNEL, ROOT, "U1", "👀"), port, told)
    t = await ticket(core, number)
    assert t is not None and t.assignee_id is not None and len(port.told) == 1
