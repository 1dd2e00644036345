"""Discord's size limits, held by the fake and kept by the bot: embeds (6,000 in all, 256 a title, 1,024 a
field, 25 fields, 4,096 a description) and interaction tokens (3 s to answer, 15 minutes to follow up)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.adapters.discord import embeds
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers.snapshots import TicketView
from tests.support import discord_payloads as p
from tests.support import discord_rules
from tests.support.fake_discord import FakeDiscord

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def _ticket(**changes: Any) -> TicketView:
    values: dict[str, Any] = dict(number=7, subject="Printer on fire", requester="Mia <mia@example.com>",
                                  requester_email="mia@example.com", status=Status.OPEN, priority=Priority.NORMAL,
                                  assignee=None, assignee_chat_id=None, team="support", tags=(), created_at=NOW,
                                  updated_at=NOW, first_response_at=None, solved_at=None, category="billing")
    return TicketView(**{**values, **changes})


def test_the_fake_refuses_embeds_over_discords_limits() -> None:
    assert discord_rules.embed_problems([{"title": "t" * 257}])
    assert discord_rules.embed_problems([{"description": "d" * 4097}])
    assert discord_rules.embed_problems([{"fields": [{"name": "n", "value": "v"}] * 26}])
    assert discord_rules.embed_problems([{"fields": [{"name": "n", "value": "v" * 1025}]}])
    six = [{"name": "n", "value": "v" * 1000}] * 6 + [{"name": "n", "value": "v" * 10}]
    assert discord_rules.embed_problems([{"fields": six}]) == ["embeds: more than 6000 characters in all"]
    assert discord_rules.embed_problems([{"title": "t" * 256, "fields": [{"name": "n", "value": "v" * 1024}]}]) == []


def test_a_ticket_card_stays_within_the_embed_limits_however_much_it_holds() -> None:
    huge = _ticket(subject="s" * 3000, requester="r" * 3000, tags=tuple(f"tag{i}" for i in range(400)),
                   team="t" * 1500, category="c" * 1500, failed_mail=tuple("bounced " * 40 for _ in range(20)))
    card = embeds.ticket_embed(huge, NOW, moved="to billing " * 200).to_dict()
    assert discord_rules.embed_problems([card]) == []  # type: ignore[list-item]
    assert len(embeds.ticket_embed(_ticket(), NOW)) < 6000  # an ordinary card is left as it is


async def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as answer:
        return answer.status, await answer.json()


async def test_the_fake_expires_interaction_tokens_after_3_seconds_and_follow_ups_after_15_minutes() -> None:
    async with FakeDiscord() as fake:
        fake.join(p.user(1_000_000_000_000_000_001, "Ana Agent"))
        user = fake.users["1000000000000000001"]
        late = fake.interaction(3, {"custom_id": "x", "component_type": 2}, user, fake.tickets_channel)
        fake.answers.age(late["token"], 3.5)
        status, body = await _post(f"{fake.api_base}/interactions/{late['id']}/{late['token']}/callback", {"type": 5})
        assert (status, body["code"]) == (404, 10062)

        ok = fake.interaction(3, {"custom_id": "x", "component_type": 2}, user, fake.tickets_channel)
        status, _ = await _post(f"{fake.api_base}/interactions/{ok['id']}/{ok['token']}/callback", {"type": 5})
        assert status == 200
        assert (await _post(f"{fake.api_base}/webhooks/{fake.app_id}/{ok['token']}", {"content": "done"}))[0] == 200
        fake.answers.age(ok["token"], 15 * 60 + 1)
        status, body = await _post(f"{fake.api_base}/webhooks/{fake.app_id}/{ok['token']}", {"content": "late"})
        assert (status, body["code"]) == (401, 50027)


async def test_the_fake_refuses_posts_where_the_bot_may_not_write() -> None:
    from tests.support import discord_guild as g
    async with FakeDiscord() as fake:
        channel = fake.tickets_channel
        channel["permission_overwrites"] = [g.overwrite(str(fake.guild_id), g.ROLE, deny=g.SEND_MESSAGES)]
        bot_role = next(r for r in fake.server.roles.values() if r["name"] == "Tiketti")
        bot_role["permissions"] = str(int(bot_role["permissions"]) & ~g.MANAGE_CHANNELS & ~g.SEND_MESSAGES)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {p.TOKEN}"}) as http, \
                http.post(f"{fake.api_base}/channels/{channel['id']}/messages", json={"content": "hi"}) as answer:
            assert (answer.status, (await answer.json())["code"]) == (403, 50013)
