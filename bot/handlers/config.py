"""The helpdesk's own facts every handler may read: its address, its name, its workflow, its limits.

Built once from the settings by the composition root (bot.app) and never changed while running;
kept apart from `Context` so modules that only need the facts (placement, tests) need nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.workflow import Workflow


@dataclass(frozen=True)
class HelpdeskConfig:
    support_address: str
    support_name: str = "Support"
    subject_tag: str = "#"
    own_addresses: frozenset[str] = frozenset()
    ack_enabled: bool = True
    ack_limit_per_hour: int = 3
    send_limit_per_hour: int = 10  # tickets an agent may open by mailing an outside address, per hour
    first_response_text: str = "within one business day"
    # A reply's mail is held this long, so its author can take it back (bot.handlers.undo). The
    # setting's default is 10; a config built by hand holds nothing.
    undo_seconds: float = 0.0
    max_attachment_bytes: int = 10_000_000
    max_mime_parts: int = 500  # per mail: a mail of 20,000 parts is read up to here (bot.mail.parse)
    max_attachments: int = 100  # per mail: further attachments are not stored; the ticket notes it
    workflow: Workflow = field(default_factory=Workflow)
    replies_dir: Path = Path("config/replies")  # canned replies' folder (bot.handlers.canned_folder)
    timezone: str = "UTC"  # where "today" and "yesterday" of reports are
    # The chat platforms tickets are shown on ("slack", "discord"): a team naming a channel on one of
    # them works there only (bot.handlers.placement). Empty: whichever platform asks is the only one.
    chat_platforms: frozenset[str] = frozenset()
    # The knowledge base (bot.handlers.kb): its folder of Markdown articles (None: no knowledge base), how often
    # the folder is looked at for changed files, and how many articles a new ticket is offered (0: none).
    kb_dir: str | None = None
    kb_rescan_seconds: float = 10.0
    kb_suggestions: int = 3

    @property
    def mail_domain(self) -> str:
        return self.support_address.rsplit("@", 1)[-1]
