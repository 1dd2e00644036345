"""`ask` through Slack's and Discord's doors (their fakes, real sockets, an SMTP sink): the agent's question is
mailed to the expert, both the question and the expert's answer show in the ticket's thread as internal notes,
the agent who asked is mentioned when the answer comes, and the customer is mailed nothing more."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from tests.support.db import Database
from tests.support.discord_bot import BEN, roster_discord_bot
from tests.support.mails import raw_mail
from tests.support.slack_bot import block_text, eventually, running_bot
from tests.support.smtp_sink import Received, SmtpSink

EXPERT = "expert@supplier.example"
CUSTOMER = "mia@customer.example"
COMPLAINT = "I was charged twice for March."


def answer_to(question: Received, body: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"] = f"Erik <{EXPERT}>", question.message["From"]
    mail["Subject"] = f"Re: {question.message['Subject']}"
    mail["Message-ID"], mail["In-Reply-To"] = "<answer@supplier.example>", question.message["Message-ID"]
    mail.set_content(body)
    return mail.as_bytes()


def mailed_to(sink: SmtpSink, address: str) -> list[Received]:
    return [r for r in sink.received if address in r.rcpt_tos]


async def test_slack_ticket_ask_mails_the_expert_and_the_answer_is_a_note_in_the_thread(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with running_bot(sqlite_database, tmp_path) as bot:
        number = await bot.mail(raw_mail(frm=f"Mia <{CUSTOMER}>", subject="Invoice twice", body=COMPLAINT))
        await bot.settled()
        root = await bot.root_of(number)
        # Slack sends a typed address as a mailto link
        line = f"ask {number} <mailto:{EXPERT}|{EXPERT}> --with-message | Is this second charge ours?"
        reply = await bot.send(bot.requests.command(line, user="U0ANA"))
        assert reply.status == 200
        [question] = await eventually(lambda: mailed_to(bot.sink, EXPERT))
        assert COMPLAINT in question.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        await bot.mail(answer_to(question, "Yes, refunded today."))
        await bot.settled()
        shown = [block_text(m.blocks) for m in bot.thread(root)]
        assert sum("Internal note" in s and f"asked {EXPERT} by mail" in s for s in shown) == 1
        assert any(f"Internal note by {EXPERT} by mail" in s and "refunded today" in s for s in shown)
        assert any(f"<@U0ANA> {EXPERT} answered your question on #{number}" in s for s in shown), "Ana is told"
        assert len(mailed_to(bot.sink, CUSTOMER)) == 1  # the acknowledgement, nothing since


async def test_discord_helpdesk_ask_mails_the_expert_and_the_answer_is_a_note_in_the_thread(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with roster_discord_bot(sqlite_database, tmp_path) as bot:
        number = await bot.mail(raw_mail(frm=f"Mia <{CUSTOMER}>", subject="Invoice twice", body=COMPLAINT))
        await bot.settled()
        thread = await bot.thread_of(number)
        answered = await bot.slash("ask", BEN, thread, expert=EXPERT, question="Is this second charge ours?",
                                   with_customer_message=True)
        said = answered.followups[0] if answered.kind == 5 else answered.data
        assert f"question mailed to {EXPERT}" in said["content"]
        await bot.settled()
        [question] = mailed_to(bot.sink, EXPERT)
        assert COMPLAINT in question.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        await bot.mail(answer_to(question, "Yes, refunded today."))
        await bot.settled()
        posted = [str(m.get("content", "")) + " ".join(str(e) for e in m.get("embeds", []))
                  for m in bot.discord.in_channel(thread["id"])]
        assert sum(f"asked {EXPERT} by mail" in p for p in posted) == 1
        assert any(f"Internal note by **{EXPERT} by mail**" in p and "refunded today" in p for p in posted)
        assert any(f"<@{BEN['id']}> {EXPERT} answered your question on #{number}" in p for p in posted), "Ben is told"
        assert len(mailed_to(bot.sink, CUSTOMER)) == 1  # the acknowledgement, nothing since
