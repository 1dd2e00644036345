"""The fake Slack reading a channel back: conversations.history and conversations.replies, in pages.

Mixed into tests/support/fake_slack.FakeSlack. The bot reads these to find a post it may have made
before (by the key in its metadata), so they page as Slack pages them (tests/support/slack_rules.page):
a bot that reads only the first page misses its own post and doubles it.
"""

from __future__ import annotations

from typing import Any

from tests.support.slack_rules import page


class SlackReading:
    channels: dict[str, str] | None
    messages: dict[tuple[str, str], Any]

    def roots(self, channel: str) -> list[Any]:
        raise NotImplementedError

    def thread(self, channel: str, root_ts: str) -> list[Any]:
        raise NotImplementedError

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Roots, newest first, a page at a time; metadata only with include_all_metadata, as Slack does."""
        channel = str(args.get("channel"))
        if self.channels is not None and channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        return self._paged([m.payload(with_metadata=meta) for m in self.roots(channel)[::-1]], args,
                           f"history-{channel}")

    @staticmethod
    def _paged(messages: list[dict[str, Any]], args: dict[str, Any], kind: str) -> dict[str, Any]:
        answer = page(messages, args, kind)
        if answer["ok"]:
            answer["messages"] = answer.pop("items")
        return answer

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        if (channel, ts) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        thread = [self.messages[(channel, ts)], *self.thread(channel, ts)]
        meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        return self._paged([m.payload(with_metadata=meta) for m in thread], args, f"replies-{channel}-{ts}")
