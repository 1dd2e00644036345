"""Answers through a request's response_url, checked: slack_sdk's webhook client does not raise.

Bolt's `respond()` posts to the response_url with `AsyncWebhookClient`, which hands back a
`WebhookResponse` whatever the status: a 404 (`no_text`, an expired url), a 400 (`invalid_blocks`,
an answer too long) or a 5xx would vanish without a word. Slack allows a response_url five uses
within thirty minutes (https://api.slack.com/interactivity/handling#message_responses); past that it
answers 404 `used_url` / `expired_url`. Here every answer is checked: a failure is logged (status and
body, never the URL, which is a credential) and the person is told privately by chat.postEphemeral.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.slack import answers

log = logging.getLogger(__name__)

Tell = Callable[[str, str | None, dict[str, Any]], Awaitable[None]]


async def respond_checked(respond: Any, answer: dict[str, Any], *, what: str, user: str, channel: str | None,
                          tell: Tell, **how: Any) -> bool:
    """Post `answer` through `respond`; False (logged, and the person told another way) when Slack refused it."""
    try:
        result = await respond(**how, **answer)
    except Exception as exc:  # the hook unreachable: as good as refused
        status, body = 0, f"{type(exc).__name__}: {exc}"
    else:
        status, body = int(getattr(result, "status_code", 200) or 0), str(getattr(result, "body", "") or "")
        if 200 <= status < 300:
            return True
    log.error("slack: the answer to %s was refused by response_url (HTTP %s: %s)", what, status, body[:200])
    await tell(user, channel, answers.text(
        f":warning: Tiketti's answer to your {what} could not be shown (Slack said {status or 'nothing'}: "
        f"{body[:100] or 'no reason'}). Try again, or ask for less at once."))
    return False
