"""Rows for the search benchmark: customers, tickets and their messages, made chunk by chunk.

A `Plan` fixes what does not depend on the chunk (how many messages each ticket has, the customers
and how many tickets each opens, the agents and their teams), so a chunk of tickets can be made on
its own, the same for the same seed, and the fill never holds a million messages in memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from bench.search_corpus import RARE_WORD, Corpus
from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.status import Status

__all__ = ["AGENTS", "RARE_WORD", "Plan", "contact_rows", "ticket_chunk"]

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SPAN = timedelta(days=730)  # two years of tickets
# Chat user id -> team, in agent id order (1, 2, …); the bench searches as the first.
AGENTS: dict[str, str] = {f"U0AGENT{i:02d}": team for i, team in enumerate(
    ["support"] * 10 + ["billing"] * 8 + ["it"] * 12 + ["logistics"] * 7 + ["security"] * 3, 1)}
TEAM_OF_TOPIC = {"invoice": "billing", "refund": "billing", "password": "it", "printer": "it", "vpn": "it",
                 "laptop": "it", "delivery": "logistics", "account": "support"}
CATEGORY_OF_TOPIC = {"invoice": "billing", "refund": "billing", "password": "technical", "printer": "technical",
                     "vpn": "technical", "laptop": "technical", "delivery": "delivery", "account": "account"}
TAGS = ("refund", "bug", "feature-request", "gdpr", "wholesale", "b2b", "escalated", "warranty", "follow-up")
FREE_MAIL = ("gmail.com", "outlook.com", "hotmail.fi", "gmx.de", "yahoo.com", "icloud.com")
BIG_DOMAIN = "bigcorp.example"
PRIORITIES = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
PRIORITY_WEIGHTS = tuple(accumulate((0.15, 0.60, 0.20, 0.05)))
RECENT = (Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.CUSTOMER_REPLIED, Status.WAITING_ON_THIRD_PARTY,
          Status.SOLVED, Status.CLOSED)
RECENT_WEIGHTS = tuple(accumulate((0.15, 0.30, 0.15, 0.08, 0.05, 0.12, 0.15)))
# After the first (always the customer's mail), the rest are replies, customer mail and notes in these shares,
# which makes the whole about 50 % customer mail, 35 % replies, 15 % notes at five messages a ticket.
LATER_KINDS = (MessageKind.REPLY, MessageKind.INBOUND, MessageKind.NOTE)
LATER_WEIGHTS = tuple(accumulate((0.4375, 0.375, 0.1875)))
_PLAIN = str.maketrans("äöåüéíóáñç", "aoaueioanc")


@dataclass(frozen=True)
class Customer:
    email: str
    first: str
    name: str


@dataclass
class Plan:
    tickets: int
    messages: int
    seed: int
    counts: list[int]  # messages of ticket i+1
    first_message: list[int]  # id of ticket i+1's first message
    contacts: list[Customer]  # contact id i+1
    requester_weights: list[float]  # cumulative: a few customers open many tickets
    history_customer: str  # a customer with many tickets (the bench's "customer's history")
    big_domain: str
    corpus: Corpus

    @classmethod
    def make(cls, tickets: int, messages: int, seed: int) -> Plan:
        rnd = random.Random(seed)
        # Every ticket has the customer's first mail; the other messages go to tickets in proportion to a
        # log-normal weight, so most tickets have a few and some have dozens.
        weights = [rnd.lognormvariate(0, 0.8) for _ in range(tickets)]
        counts = [1] * tickets
        for i in rnd.choices(range(tickets), weights=weights, k=messages - tickets):
            counts[i] += 1
        corpus = Corpus(seed)
        contacts = _customers(rnd, corpus, max(20, tickets // 4))
        requester_weights = list(accumulate(1 / r ** 0.7 for r in range(1, len(contacts) + 1)))
        return cls(tickets, messages, seed, counts, list(accumulate([1, *counts[:-1]])),
                   contacts, requester_weights, contacts[min(49, len(contacts) // 10)].email,
                   BIG_DOMAIN, corpus)


def _customers(rnd: random.Random, corpus: Corpus, n: int) -> list[Customer]:
    """Customers of free-mail services and of companies, a few companies with many people (Zipf)."""
    domains = [BIG_DOMAIN] + [f"{rnd.choice(('nordic', 'metso', 'alpha', 'berg', 'kauppa', 'tech', 'logi', 'sun'))}"
                              f"{rnd.choice(('parts', 'soft', 'trade', 'oy', 'gmbh', 'ab', 'works'))}{i}."
                              f"{rnd.choice(('fi', 'de', 'se', 'com', 'fr', 'es'))}" for i in range(1, max(5, n // 15))]
    domain_weights = list(accumulate(1 / r for r in range(1, len(domains) + 1)))
    people = []
    for i in range(1, n + 1):
        first, last = corpus.name()
        domain = rnd.choice(FREE_MAIL) if rnd.random() < 0.35 else rnd.choices(domains, cum_weights=domain_weights)[0]
        people.append(Customer(f"{first}.{last}.{i}@{domain}".lower().translate(_PLAIN), first, f"{first} {last}"))
    return people


def contact_rows(plan: Plan) -> list[dict[str, Any]]:
    return [{"id": i, "email": c.email, "name": c.name, "created_at": NOW - SPAN}
            for i, c in enumerate(plan.contacts, 1)]


def ticket_chunk(plan: Plan, first: int, last: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tickets first..last-1 (ids) and all their messages, as rows for `insert(table)`."""
    rnd = plan.corpus.rnd
    rnd.seed(plan.seed * 1_000_003 + first)
    team_agents: dict[str, list[tuple[int, str]]] = {}
    for agent_id, (_chat_id, team) in enumerate(AGENTS.items(), 1):
        team_agents.setdefault(team, []).append((agent_id, f"Agent {agent_id}"))
    tickets: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for tid in range(first, last):
        created = NOW - SPAN * ((plan.tickets - tid) / plan.tickets) - timedelta(seconds=rnd.random() * 600)
        requester = rnd.choices(range(1, len(plan.contacts) + 1), cum_weights=plan.requester_weights)[0]
        customer = plan.contacts[requester - 1]
        code, topic = plan.corpus.language(), plan.corpus.topic()
        order = f"ORD-{rnd.randrange(10**6, 10**7)}"
        team = TEAM_OF_TOPIC[topic] if rnd.random() < 0.9 else rnd.choice(("support", "billing", "it", "logistics"))
        if rnd.random() < 0.02:
            team = "security"
        tags = sorted(set(rnd.sample(TAGS, k=rnd.choice((0, 0, 1, 1, 2)))
                          + (["vip"] if customer.email.endswith(BIG_DOMAIN) or rnd.random() < 0.04 else [])))
        age_days = (NOW - created).days
        status = Status.CLOSED if age_days > 30 and rnd.random() < 0.95 else rnd.choices(RECENT, cum_weights=RECENT_WEIGHTS)[0]
        assignee = None if status == Status.NEW and rnd.random() < 0.7 or rnd.random() < 0.05 else rnd.choice(team_agents[team])
        helper = assignee or rnd.choice(team_agents[team])
        at, first_reply = created, None
        mid = plan.first_message[tid - 1]
        for k in range(plan.counts[tid - 1]):
            kind = MessageKind.INBOUND if k == 0 else rnd.choices(LATER_KINDS, cum_weights=LATER_WEIGHTS)[0]
            if k:
                at = min(NOW, at + timedelta(hours=rnd.expovariate(1 / 8)))
            if kind == MessageKind.INBOUND:
                body = plan.corpus.customer_mail(code, topic, order, customer.first, rare=k == 0 and tid % 1000 == 100)
                row = {"author_contact_id": requester, "author_agent_id": None, "author_label": customer.name,
                       "mail_message_id": f"<{mid}.{tid}@{customer.email.rsplit('@', 1)[1]}>"}
            elif kind == MessageKind.REPLY:
                first_reply = first_reply or at
                body = plan.corpus.agent_reply(code, topic, order, customer.first, helper[1])
                row = {"author_contact_id": None, "author_agent_id": helper[0], "author_label": helper[1],
                       "mail_message_id": f"<tiketti.{mid}@bench.test>"}
            else:
                body = plan.corpus.note(code, order)
                row = {"author_contact_id": None, "author_agent_id": helper[0], "author_label": helper[1],
                       "mail_message_id": None}
            messages.append({"id": mid, "ticket_id": tid, "kind": kind, "created_at": at, "body_text": body,
                             "body_display": body, "body_html": None, "in_reply_to": None, "chat_ref": None, **row})
            mid += 1
        solved = at if status in (Status.SOLVED, Status.CLOSED) else None
        tickets.append({
            "id": tid, "subject": plan.corpus.subject(code, topic, order), "requester_id": requester,
            "status": status, "priority": rnd.choices(PRIORITIES, cum_weights=PRIORITY_WEIGHTS)[0],
            "assignee_id": assignee[0] if assignee else None, "team": team,
            "category": CATEGORY_OF_TOPIC[topic] if rnd.random() < 0.9 else None, "tags": tags, "references": [],
            "created_at": created, "updated_at": at, "first_response_at": first_reply, "solved_at": solved,
            "closed_at": solved if status == Status.CLOSED else None, "sla_events": [],
        })
    return tickets, messages
