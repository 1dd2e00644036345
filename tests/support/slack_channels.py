"""The fake Slack's channels as the bot may find them: archived, closed to the bot, messages deleted.

Mixed into tests/support/fake_slack.FakeSlack. Tests set `archived` / `outside` (or call `archive`,
`delete`) and the posting methods answer with Slack's errors for them.
"""

from __future__ import annotations

from typing import Any


class SlackChannels:
    channels: dict[str, str] | None
    messages: dict[tuple[str, str], Any]
    archived: set[str]  # channels archived: posts answer is_archived
    outside: set[str]  # channels the bot was removed from: posts answer not_in_channel

    def archive(self, channel: str) -> None:
        """The channel is archived: chat.postMessage and chat.update answer is_archived."""
        self.archived.add(channel)

    def delete(self, channel: str, ts: str) -> None:
        """Someone deleted the message (and, for a root, Slack keeps no thread under it for us)."""
        self.messages.pop((channel, ts), None)

    def _channel_error(self, channel: Any) -> dict[str, Any] | None:
        """chat.postMessage's channel errors (https://api.slack.com/methods/chat.postMessage, "Errors"):
        channel_not_found ("Value passed for channel was invalid"), not_in_channel ("Cannot post user
        messages to a channel they are not in"), is_archived ("Channel has been archived")."""
        if self.channels is not None and channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.outside:
            return {"ok": False, "error": "not_in_channel"}
        if channel in self.archived:
            return {"ok": False, "error": "is_archived"}
        return None

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.delete (https://api.slack.com/methods/chat.delete): message_not_found when it is gone already."""
        key = (str(args.get("channel")), str(args.get("ts")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.delete(*key)
        return {"ok": True, "channel": key[0], "ts": key[1]}
