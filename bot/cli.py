"""`tiketti`: the command line. Each sub-command is a thin shell around the core."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import __version__, logs

if TYPE_CHECKING:  # bot.app loads everything; imported where a command needs it, so a helper
    # process that starts from this script (the mail parser, bot.mail.parse_pool) stays small,
    # and `tiketti ingest` handing its mail to a running instance imports no more than smtplib
    from bot.app import Core
    from bot.domain.model import QuarantinedMail
    from bot.settings import Settings

EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the mail and tries again later


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.func is cmd_ingest:
        return ingest(args)
    import asyncio

    from bot.settings import Settings

    settings = Settings()
    level = args.log_level or settings.log_level
    if args.func is cmd_demo and not args.log_level and "TIKETTI_LOG_LEVEL" not in os.environ:
        level = "WARNING"  # the terminal is the tickets channel: keep routine log lines out of it
    logs.configure(level)
    try:
        return int(asyncio.run(args.func(settings, args)) or 0)
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tiketti", description="A helpdesk that lives in team chat.")
    p.add_argument("--version", action="version", version=f"tiketti {__version__}")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING (default: TIKETTI_LOG_LEVEL or INFO)")
    sub = p.add_subparsers(metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot: migrations, web server, mail in and out, chat adapters")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="try Tiketti in the terminal: no Slack, no mail server needed")
    demo.add_argument("--script", help="read console commands from this file instead of the terminal")
    demo.add_argument("--smtp-port", type=int, default=None, help="inbound SMTP port for the demo (default 2525)")
    demo.set_defaults(func=cmd_demo)

    ingest = sub.add_parser("ingest", help="read one mail on standard input (for an MTA pipe)")
    ingest.add_argument("--file", help="read the mail from this file instead")
    ingest.set_defaults(func=cmd_ingest)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="create or upgrade the schema to the latest version")
    up.set_defaults(func=cmd_db_upgrade)

    q = sub.add_parser("quarantine", help="mail that could not be processed")
    q_sub = q.add_subparsers(metavar="ACTION")
    q_list = q_sub.add_parser("list", help="list quarantined mail")
    q_list.add_argument("--system", action="store_true",
                        help="list delivery reports (bounces, read receipts, abuse reports) about no mail we sent")
    q_list.set_defaults(func=cmd_quarantine_list)
    show = q_sub.add_parser("show", help="show one quarantined mail")
    show.add_argument("id", type=int)
    show.add_argument("--raw", action="store_true", help="write the original bytes to standard output")
    show.set_defaults(func=cmd_quarantine_show)
    retry = q_sub.add_parser("retry", help="process a quarantined mail again")
    retry.add_argument("id", type=int)
    retry.set_defaults(func=cmd_quarantine_retry)
    rep = sub.add_parser("report", help="the managers' figures for a period, as CSV")
    rep.add_argument("--csv", action="store_true", help="write CSV to standard output (the only format so far)")
    rep.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (default: 6 days ago)")
    rep.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day, included (default: today)")
    rep.add_argument("--team", help="only this team's tickets")
    rep.set_defaults(func=cmd_report)
    find = sub.add_parser("search", help="find tickets by words and filters, as /ticket search does",
                          description="Words (all must be found, in the subject or any message, notes included) and "
                                      "filters: status:open team:billing tag:vip from:mia@example.com|example.com "
                                      "assignee:@ana|none category:billing priority:high after:2026-04-01 "
                                      "before:2026-05-01 sort:newest. See docs/configuration.md (Search).")
    find.add_argument("query", nargs="*", help="words and filters; none: every ticket, newest first")
    find.add_argument("--page", type=int, default=None, help="which page of 20 (default 1)")
    find.add_argument("--view", help="run a saved view of the workflow file ([[views]]); the query narrows it")
    find.set_defaults(func=cmd_search)
    return p


async def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    import asyncio

    from bot.app import build_core
    from bot.runtime import Runtime

    core = await build_core(settings)
    try:
        runtime = Runtime(core)
    except ValueError as exc:  # a half-configured adapter: say what is missing, and stop
        print(f"tiketti run: {exc}", file=sys.stderr)
        await core.close()
        return 78  # EX_CONFIG
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runtime.request_stop)
    await runtime.start()
    try:
        await runtime.wait()
    finally:
        await runtime.stop()
        await core.close()
    return 0


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return await run_demo(settings, script=args.script, smtp_port=args.smtp_port)


def ingest(args: argparse.Namespace) -> int:
    """One mail from an MTA: to the running instance's listener when there is one, else stored here.

    The hand-off needs only the standard library (bot.mail.handoff); the settings, the store and
    the handlers are imported only when this process has to store the mail itself.
    """
    raw = open(args.file, "rb").read() if args.file else sys.stdin.buffer.read()
    if not raw.strip():
        print("tiketti ingest: no mail on standard input", file=sys.stderr)
        return 65  # EX_DATAERR
    from bot.mail import handoff

    listener = handoff.configured_listener()
    if listener is not None:
        reply = handoff.hand_off(raw, listener, os.environ.get("TIKETTI_SUPPORT_ADDRESS") or "support@localhost")
        if reply is not None:
            kind = "LMTP" if listener.lmtp else "SMTP"
            print(f"handed to the running instance ({kind} {listener.host}:{listener.port}): {reply}")
            return 0
    import asyncio

    from bot.settings import Settings

    settings = Settings()
    logs.configure(args.log_level or settings.log_level)
    try:
        return asyncio.run(cmd_ingest(settings, args, raw))
    except KeyboardInterrupt:
        return 130


async def cmd_ingest(settings: Settings, args: argparse.Namespace, raw: bytes) -> int:
    """Store one mail in this process: the schema is checked, not migrated, when it is current."""
    from bot.mail.pipeline import MailPipeline

    try:
        from bot.app import build_core

        core = await build_core(settings)
    except Exception as exc:
        print(f"tiketti ingest: cannot open the store ({type(exc).__name__}: {exc}); try again later", file=sys.stderr)
        return EX_TEMPFAIL
    try:
        result = await MailPipeline(core.ctx).process(raw, source="pipe")
    except Exception as exc:
        print(f"tiketti ingest: the mail was not stored ({type(exc).__name__}: {exc}); try again later", file=sys.stderr)
        return EX_TEMPFAIL
    finally:
        await core.close()
    if result.quarantine_id is not None:
        print(f"tiketti ingest: mail kept in quarantine as #{result.quarantine_id} "
              f"(see: tiketti quarantine show {result.quarantine_id})", file=sys.stderr)
        return 0
    assert result.outcome is not None
    o = result.outcome
    where = f" ticket #{o.ticket_number}" if o.ticket_number else ""
    print(f"{o.action}{where}{': ' + o.detail if o.detail else ''}")
    return 0


async def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    async with opened_core(settings):
        print("schema is up to date")
    return 0


async def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    import csv

    from bot.handlers import reports

    async with opened_core(settings) as core:
        tz = getattr(settings, "timezone", None)
        today = core.ctx.clock().astimezone(reports.zone(tz)).date()
        first, last = args.start or (today - timedelta(days=6)).isoformat(), args.end or today.isoformat()
        try:
            start, end, _ = reports.parse_period(f"{first}..{last}", core.ctx.clock(), tz)
        except ValueError as exc:
            print(f"tiketti report: {exc}", file=sys.stderr)
            return 64  # EX_USAGE
        report = await reports.build_report(core.ctx, start, end, args.team, tz)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("section", "key", "value"))
    writer.writerows(reports.csv_rows(report))
    return 0


async def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    """As the operator (every ticket, notes included): number, status, customer and subject, one line each."""
    from bot.domain.errors import UserFacingError
    from bot.handlers import search
    from bot.handlers.context import Actor

    operator = Actor("cli", "Operator (command line)", operator=True)
    text = " ".join(args.query)
    async with opened_core(settings) as core:
        try:
            if args.view:
                found = await search.run_view(core.ctx, operator, f"{args.view} {text}".strip(), args.page)
            else:
                found = await search.search(core.ctx, operator, text, args.page)
        except UserFacingError as exc:
            print(f"tiketti search: {exc}", file=sys.stderr)
            return 64  # EX_USAGE
    for t in found.tickets:
        print(f"#{t.number:<7} {t.status_text:<22} {shown(t.requester_email or t.requester):<32} {shown(t.subject)}")
    where = f", page {found.page} of {found.pages}" if found.pages > 1 else ""
    more = f" (next: --page {found.next_page})" if found.next_page else ""
    print(f"{found.total} ticket{'' if found.total == 1 else 's'}{where}{more}", file=sys.stderr)
    return 0


@asynccontextmanager
async def opened_core(settings: Settings) -> AsyncIterator[Core]:
    from bot.app import build_core

    core = await build_core(settings)
    try:
        yield core
    finally:
        await core.close()


# Control characters (C0, DEL, C1) and the bidirectional overrides that reorder what a terminal shows.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """Text from a mail, safe to print: a sender or subject cannot move the cursor, recolour or retitle
    the operator's terminal, or hide what follows it; each such character is written as an escape."""
    return _UNSHOWABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                           else f"\\u{ord(m.group()):04x}", text)


async def _quarantined(core: Core, item_id: int) -> QuarantinedMail | None:
    async with core.ctx.uow() as uow:
        item = await uow.quarantine.get(item_id)
    if item is None:
        print(f"no quarantined mail #{item_id}", file=sys.stderr)
    return item


async def cmd_quarantine_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.handlers.bounces import is_system_quarantine

    async with opened_core(settings) as core:
        async with core.ctx.uow() as uow:
            found = await uow.quarantine.unresolved(limit=1000)
    system = bool(getattr(args, "system", False))
    items = [it for it in found if is_system_quarantine(it.reason) == system]
    if not items:
        print("no unmatched delivery reports" if system else "no mail in quarantine")
    if len(found) > len(items) and not system:
        print(f"({len(found) - len(items)} unmatched delivery report(s) not shown: tiketti quarantine list --system)")
    for it in items:
        print(f"#{it.id}  {it.received_at:%Y-%m-%d %H:%M}  {shown(it.source):<12} from {shown(it.sender) or '?'}  "
              f"subject '{shown(it.subject) or '?'}'  — {shown(it.reason)}")
    return 0


async def cmd_quarantine_show(settings: Settings, args: argparse.Namespace) -> int:
    async with opened_core(settings) as core:
        it = await _quarantined(core, args.id)
    if it is None:
        return 1
    if args.raw:
        sys.stdout.buffer.write(it.raw)
        return 0
    print(f"quarantined mail #{it.id}\n  received: {it.received_at:%Y-%m-%d %H:%M:%S} UTC via {shown(it.source)}\n"
          f"  from:     {shown(it.sender)}\n  subject:  {shown(it.subject)}\n  reason:   {shown(it.reason)}\n"
          f"  size:     {len(it.raw)} bytes")
    if it.resolved_at:
        print(f"  resolved: {it.resolved_at:%Y-%m-%d %H:%M:%S} UTC: {shown(it.resolution or '')}")
    print(f"(the original is kept whole: tiketti quarantine show {it.id} --raw > mail.eml)")
    return 0


async def cmd_quarantine_retry(settings: Settings, args: argparse.Namespace) -> int:
    from bot.handlers import intake
    from bot.mail.parse import UnparseableMail, parse_mail

    async with opened_core(settings) as core:
        it = await _quarantined(core, args.id)
        if it is None or it.id is None:
            return 1
        if it.resolved_at:
            print(f"#{it.id} was already resolved: {it.resolution}")
            return 0
        try:
            cfg = core.ctx.config
            mail = parse_mail(it.raw, max_attachment_bytes=cfg.max_attachment_bytes, max_parts=cfg.max_mime_parts,
                              max_attachments=cfg.max_attachments)
        except UnparseableMail as exc:
            print(f"#{it.id} still cannot be parsed: {exc}; it stays in quarantine", file=sys.stderr)
            return 1
        outcome = await intake.receive_mail(core.ctx, mail, source=f"quarantine:{it.id}")
        note = f"retried: {outcome.action}" + (f" ticket #{outcome.ticket_number}" if outcome.ticket_number else "")
        await intake.resolve_quarantined(core.ctx, it.id, note)
        print(f"#{it.id} {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
