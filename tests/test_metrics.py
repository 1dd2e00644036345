"""GET /metrics as Prometheus scrapes it: over HTTP from a running bot, parsed by prometheus_client's parser.

Counters are per process and other tests in this process add to them, so the ingest and
outbox figures are checked as the difference between two scrapes around the mail this
test delivers; the ticket gauge comes from this test's own database and is exact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.adapters.slack.client import SlackApi
from bot.app import build_core
from bot.handlers import sla, tickets
from bot.handlers.context import Actor
from bot.runtime import Runtime
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.fake_slack import FakeSlack
from tests.support.mails import SUPPORT, deliver, raw_mail

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def runtime(database: Database, tmp_path: Path) -> AsyncIterator[Runtime]:
    core = await build_core(make_settings(database, tmp_path, http_port=0), engine=database.engine())
    rt = Runtime(core)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()
        await core.close()


async def scrape(rt: Runtime) -> Samples:
    assert rt.web is not None
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://{rt.web.host}:{rt.web.port}/metrics") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await resp.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_mail_in_and_out_and_tickets_by_status(runtime: Runtime) -> None:
    before = await scrape(runtime)
    assert before[("tiketti_tickets", (("status", "new"),))] == 0
    first = await runtime.pipeline.process(raw_mail(message_id="<a1@customer.example>"), source="test")
    await runtime.pipeline.process(raw_mail(frm="Bo <bo@customer.example>", subject="Login fails"), source="test")
    await runtime.pipeline.process(raw_mail(message_id="<a1@customer.example>"), source="test")  # redelivered
    await runtime.pipeline.process(raw_mail(subject="Re: Printer is broken", in_reply_to="<a1@customer.example>",
                                            references=("<a1@customer.example>",)), source="test")
    await runtime.pipeline.process(raw_mail(headers={"X-Tiketti-Loop": SUPPORT}), source="test")  # our own, back
    await runtime.pipeline.process(b"\x00\x01 not a mail", source="test")  # quarantined
    assert first.outcome is not None and first.outcome.ticket_number is not None
    await tickets.close(runtime.core.ctx, Actor("U0ANA", "Ana", in_tickets_channel=True), first.outcome.ticket_number)
    await runtime.drain_outbox()

    after = await scrape(runtime)
    mails = {o: delta(before, after, "tiketti_mails_processed_total", outcome=o)
             for o in ("created", "appended", "duplicate", "ignored", "quarantined")}
    assert mails == {"created": 2, "appended": 1, "duplicate": 1, "ignored": 1, "quarantined": 1}
    assert delta(before, after, "tiketti_outbox_mails_total", result="sent") == 2  # one acknowledgement each
    assert delta(before, after, "tiketti_outbox_mails_total", result="failed") == 0
    assert after[("tiketti_tickets", (("status", "new"),))] == 1
    assert after[("tiketti_tickets", (("status", "solved"),))] == 1
    assert after[("tiketti_tickets", (("status", "closed"),))] == 0
    for kind in ("first_response", "resolution"):
        assert ("tiketti_sla_breaches_total", (("kind", kind),)) in after


async def test_slack_api_errors_are_counted_by_method_and_error() -> None:
    async with FakeSlack() as slack:
        api = SlackApi(slack.token, slack.base_url)
        labels = {"method": "chat.update", "error": "message_not_found"}
        before = metrics.REGISTRY.get_sample_value("tiketti_slack_api_errors_total", labels) or 0.0
        with pytest.raises(SlackApiError, match="message_not_found"):
            await api.api.chat_update(channel="C0NOWHERE", ts="1.0", text="hello")
        slack.fail_next("chat.postMessage", status=500, times=10)
        with pytest.raises(SlackApiError):
            await api.api.chat_postMessage(channel="C0NOWHERE", text="hello")  # after the client's own retries
        after = metrics.REGISTRY.get_sample_value("tiketti_slack_api_errors_total", labels)
        server = metrics.REGISTRY.get_sample_value("tiketti_slack_api_errors_total",
                                                   {"method": "chat.postMessage", "error": "internal_error"})
    assert after == before + 1 and server is not None and server >= 1


async def test_a_recorded_sla_breach_is_counted(database: Database, tmp_path: Path) -> None:
    workflow = tmp_path / "workflow.toml"
    workflow.write_text('[sla]\ntimezone = "UTC"\nhours = "08:00-16:00"\n'
                        'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
                        '[sla.targets]\nnormal = { first_response = "1h", resolution = "1d" }\n')
    core = await build_core(make_settings(database, tmp_path, http_port=0, workflow_file=workflow),
                            engine=database.engine())
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    core.ctx.clock = lambda: start
    rt = Runtime(core)
    await rt.start()
    try:
        await deliver(core, raw_mail(to=SUPPORT))
        before = await scrape(rt)
        core.ctx.clock = lambda: start + timedelta(hours=2)
        assert await sla.check_sla(core.ctx) == 1  # the breach (the warning time passed with it)
        after = await scrape(rt)
        assert delta(before, after, "tiketti_sla_breaches_total", kind="first_response") == 1
    finally:
        await rt.stop()
        await core.close()
