"""Prometheus metrics for operators, served at GET /metrics by the bot's web server.

Counters live in one registry per process (not prometheus_client's global one, so importing
a library that registers its own metrics never changes what we expose). Code that finishes
something worth counting increments a counter here with one line; nothing else about
metrics leaks into the handlers. Gauges that describe the store (tickets by status) are
computed at scrape time, so every instance reports the same truth about the shared database.

Names (all prefixed `tiketti_`; counters get `_total` in the exposition):

- `MAILS_PROCESSED` `tiketti_mails_processed_total{outcome}`: created, appended, duplicate, ignored, quarantined,
  report (a delivery report applied to its ticket), report_unmatched (kept for `quarantine list --system`)
- `OUTBOX_MAILS` `tiketti_outbox_mails_total{result}`: sent, failed, retried
- `SLACK_API_ERRORS` `tiketti_slack_api_errors_total{method,error}`: error responses from Slack's Web API
- `CHAT_POST_FAILURES` `tiketti_chat_post_failures_total{platform,code,kind}`: thread posts, root updates and
  notices that failed on a chat platform, by the platform's error code ("not_in_channel", "50007"; a passing failure by its
  exception's name) and kind: permanent (given up for that item, agents told) or transient (retried)
- `SLA_BREACHES` `tiketti_sla_breaches_total{kind}`: SLA breaches recorded by this instance
  (kind: first_response or resolution); counted by the runtime from each SlaBreached event
- `JOB_RUNS` `tiketti_job_runs_total{job,result}`: scheduler firings: ran, skipped (another instance
  or an earlier life had the slot), failed
- `tiketti_tickets{status}`: tickets by status now (gauge, from the store)
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REGISTRY = CollectorRegistry(auto_describe=True)

MAILS_PROCESSED = Counter(
    "tiketti_mails_processed", "Inbound mails processed, by outcome", ["outcome"], registry=REGISTRY
)
OUTBOX_MAILS = Counter(
    "tiketti_outbox_mails", "Outbound mail delivery attempts, by result (sent, failed, retried)", ["result"],
    registry=REGISTRY,
)
SLACK_API_ERRORS = Counter(
    "tiketti_slack_api_errors", "Error responses from Slack's Web API", ["method", "error"], registry=REGISTRY
)
CHAT_POST_FAILURES = Counter(
    "tiketti_chat_post_failures", "Chat posts and root updates that failed, by platform, error code and kind "
    "(permanent: given up and told to agents; transient: retried)", ["platform", "code", "kind"], registry=REGISTRY,
)
SLA_BREACHES = Counter(
    "tiketti_sla_breaches", "SLA breaches recorded, by kind (first_response, resolution)", ["kind"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "tiketti_job_runs", "Scheduled job firings seen by this instance, by result", ["job", "result"], registry=REGISTRY
)


# Known label values start at 0, so rate() and alerts see a series from the first scrape.
for _outcome in ("created", "appended", "duplicate", "ignored", "quarantined", "report", "report_unmatched"):
    MAILS_PROCESSED.labels(_outcome)
for _result in ("sent", "failed", "retried"):
    OUTBOX_MAILS.labels(_result)
for _kind in ("first_response", "resolution"):
    SLA_BREACHES.labels(_kind)


class _Snapshot(Collector):
    """Store-derived gauges, fixed at the moment of one scrape."""

    def __init__(self, tickets_by_status: Mapping[str, int]) -> None:
        self.tickets_by_status = tickets_by_status

    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily("tiketti_tickets", "Tickets by status, from the store", labels=["status"])
        for status, count in sorted(self.tickets_by_status.items()):
            gauge.add_metric([status], count)
        yield gauge


def render(tickets_by_status: Mapping[str, int]) -> bytes:
    """The exposition text: this process's counters plus the store's gauges read just now."""
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(tickets_by_status))
    return generate_latest(REGISTRY) + generate_latest(snapshot)
