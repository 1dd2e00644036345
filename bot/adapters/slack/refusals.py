"""Which of Slack's errors no retry can mend, and what an agent can do about each.

`SlackSurface.refused` turns an error of chat.postMessage or chat.update into
`bot.chat.surface.Undeliverable`, which the thread sync stops on for that item and tells
agents of in these words. Codes come from the methods' "Errors" tables
(https://api.slack.com/methods/chat.postMessage, https://api.slack.com/methods/chat.update);
`msg_blocks_too_long` is undocumented (slackapi/bolt-js#2509, #2867). Anything not listed
(internal_error, fatal_error, service_unavailable, ratelimited, a revoked token an operator may
yet replace) is taken as passing and retried with backoff.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.adapters.slack.client import SlackPostFailed
from bot.chat.surface import Scope, Undeliverable

INVITE = "/invite @Tiketti in that channel"
SHOW = "read the ticket with /ticket show"

# error code -> (why, in plain words; what to do; how much it stops)
REFUSALS: dict[str, tuple[str, str, Scope]] = {
    "not_in_channel": ("the bot is not in the channel", INVITE, Scope.CHANNEL),
    "channel_not_found": ("the channel does not exist or the bot cannot see it",
                          f"check the team's slack_channel setting, or {INVITE}", Scope.CHANNEL),
    "is_archived": ("the channel is archived", "unarchive it, or give the team another channel", Scope.CHANNEL),
    "restricted_action": ("the workspace does not let the bot post there", "ask a Slack admin to allow it",
                          Scope.CHANNEL),
    "restricted_action_read_only_channel": ("the channel is read-only", "ask a Slack admin to allow the bot",
                                            Scope.CHANNEL),
    "restricted_action_thread_only_channel": ("the channel takes thread replies only",
                                              "give the team another channel", Scope.CHANNEL),
    "restricted_action_non_threadable_channel": ("the channel does not allow threads",
                                                 "give the team another channel", Scope.CHANNEL),
    "ekm_access_denied": ("the workspace's key management refused the bot", "ask a Slack admin", Scope.CHANNEL),
    "team_access_not_granted": ("the bot is not allowed in that workspace", "ask a Slack admin", Scope.CHANNEL),
    "thread_not_found": ("the ticket's thread was deleted", SHOW, Scope.THREAD),
    "message_not_found": ("the ticket's message in Slack was deleted", SHOW, Scope.THREAD),
    "cannot_reply_to_message": ("Slack does not allow replies to the ticket's message", SHOW, Scope.THREAD),
    "cant_update_message": ("Slack no longer lets the bot edit the ticket's message", SHOW, Scope.THREAD),
    "edit_window_closed": ("Slack no longer lets the bot edit the ticket's message", SHOW, Scope.THREAD),
    "msg_too_long": ("Slack refused the message as too long", SHOW, Scope.ITEM),
    "msg_blocks_too_long": ("Slack refused the message as too long", SHOW, Scope.ITEM),
    "invalid_blocks": ("Slack refused the message's layout", SHOW, Scope.ITEM),
    "invalid_blocks_format": ("Slack refused the message's layout", SHOW, Scope.ITEM),
    "no_text": ("the message was empty", SHOW, Scope.ITEM),
    "too_many_attachments": ("the message had too many attachments", SHOW, Scope.ITEM),
    "invalid_metadata_format": ("Slack refused the message's metadata", SHOW, Scope.ITEM),
    "metadata_too_large": ("Slack refused the message's metadata", SHOW, Scope.ITEM),
    "message_limit_exceeded": ("the channel has too many messages", "give the team another channel", Scope.CHANNEL),
}


def refusal(exc: Exception) -> Undeliverable | None:
    """`exc` as a refusal for good, or None when Slack may take the same call later."""
    if isinstance(exc, Undeliverable):
        return exc
    if isinstance(exc, SlackPostFailed):
        error = exc.error
    elif isinstance(exc, SlackApiError):
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
    else:
        return None
    if error not in REFUSALS:
        return None
    reason, hint, scope = REFUSALS[error]
    return Undeliverable(reason, hint, code=error, scope=scope)
