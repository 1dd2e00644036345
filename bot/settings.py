"""Typed settings. The environment variable names are a public contract (see docs/configuration.md).

Precedence: environment variables, then `config/tiketti.toml` (or the file named by
TIKETTI_CONFIG), then the defaults below, which run the whole product on one
machine with nothing else installed.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def _config_file() -> Path:
    return Path(os.environ.get("TIKETTI_CONFIG", "config/tiketti.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIKETTI_", extra="ignore")

    # --- storage ---
    database_url: str = Field(
        "sqlite+aiosqlite:///tiketti.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db",
    )
    secret_key: SecretStr | None = Field(
        None, description="Signs our Message-IDs. Unset: a random key is generated once and kept in the database."
    )

    # --- the support mailbox ---
    support_address: str = Field("support@tiketti.localhost", description="From: of every mail we send; replies come back here")
    support_name: str = Field("Tiketti Support", description="Display name on outgoing mail")
    subject_tag: str = Field("#", description="Ticket tag prefix in subjects: '#' gives [#123], 'ACME #' gives [ACME #123]")
    own_addresses: list[str] = Field(
        default_factory=list, description="Other addresses that are ours: mail from them is never acknowledged"
    )
    max_attachment_bytes: int = Field(10_000_000, description="Attachments up to this size are stored; larger ones are listed only")
    max_mime_parts: int = Field(500, ge=1, description="MIME parts read per mail; the rest is left out and the ticket "
                                "gets a note saying so")
    max_attachments: int = Field(100, ge=0, description="Attachments stored per mail; further ones are left out and "
                                 "the ticket gets a note saying so")
    ack_enabled: bool = Field(True, description="Send an auto-acknowledgement to new tickets' customers")
    ack_limit_per_hour: int = Field(3, description="At most this many automatic mails per sender per hour (RFC 3834)")
    send_limit_per_hour: int = Field(10, ge=0, description="At most this many new outside addresses an agent mails "
                                     "from chat (`/ticket new … send`, `/ticket ask` to an expert not yet asked about "
                                     "that ticket), per hour")
    first_response_text: str = Field(
        "within one business day", description="Expected response time quoted in the acknowledgement"
    )
    undo_seconds: float = Field(10.0, ge=0, le=300, description="A reply to a customer's mail waits this long in the "
                                "outbox, with an Undo button, before it may be sent; 0 sends at once")

    workflow_file: Path = Field(
        Path("config/workflow.toml"),
        description="Teams, routing rules, categories and templates (see config/workflow.example.toml); optional",
    )
    replies_dir: Path = Field(
        Path("config/replies"),
        description="Canned replies: one Markdown file each with YAML front matter (see docs/configuration.md); "
                    "re-read when a file changes, and where /ticket replies save writes",
    )
    kb_dir: Path = Field(
        Path("config/kb"),
        description="Knowledge base: Markdown articles with YAML front matter (title, tags, language, url), "
                    "searched by /ticket kb and suggested on new tickets; subfolders allowed (see docs/configuration.md)",
    )
    kb_rescan_seconds: float = Field(10.0, ge=0, description="The knowledge-base folder is looked at for added, changed "
                                     "and removed articles on use, at most this often; 0: at every use")
    kb_suggestions: int = Field(3, ge=0, le=10, description="A new ticket's thread suggests up to this many articles "
                                "that fit its subject and first message; 0 turns suggestions off")

    # --- IMAP intake ---
    imap_host: str | None = Field(None, description="IMAP server; unset disables IMAP intake")
    imap_port: int = Field(993, description="IMAP port (993 for implicit TLS, 143 for plain or STARTTLS)")
    imap_user: str = Field("", description="IMAP login")
    imap_password: SecretStr = Field(SecretStr(""), description="IMAP password (never logged)")
    imap_ssl: bool = Field(True, description="Use implicit TLS for IMAP")
    imap_starttls: bool = Field(False, description="Upgrade a plain IMAP connection (port 143) with STARTTLS")
    imap_folder: str = Field("INBOX", description="Folder to read new mail from")
    imap_poll_seconds: float = Field(30.0, description="Poll interval where the server has no IDLE; IDLE timeout otherwise")

    # --- outbound SMTP ---
    smtp_host: str | None = Field(None, description="SMTP relay; unset writes outgoing mail to outbound_dir instead")
    smtp_port: int = Field(587, description="SMTP port (587 submission with STARTTLS, 465 implicit TLS, 25 relay)")
    smtp_user: str = Field("", description="SMTP login; empty for an open local relay")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password (never logged)")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS")
    smtp_timeout: float = Field(30.0, description="Seconds before an SMTP attempt counts as failed (and is retried)")
    outbound_dir: Path = Field(Path("outbound-mail"), description="Where mail goes when no SMTP relay is set")
    outbox_max_attempts: int = Field(8, description="Transient failures retried this often before giving up")
    outbox_backoff_seconds: float = Field(5.0, description="First retry delay; doubles each attempt, capped at 15 minutes")

    # --- inbound SMTP/LMTP listener ---
    inbound_smtp_host: str = Field("127.0.0.1", description="Address the inbound SMTP/LMTP listener binds to")
    inbound_smtp_port: int | None = Field(None, description="Port of the inbound SMTP listener; unset disables it")
    inbound_lmtp: bool = Field(False, description="Speak LMTP instead of SMTP on the inbound listener")

    # --- Slack (names without the TIKETTI_ prefix follow Slack's own conventions) ---
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"), description="xoxb- token; unset disables Slack"
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
        description="Verifies that requests to /slack/events come from Slack (HTTP mode)",
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"),
        description="xapp- token; when set, Slack is reached over Socket Mode instead of HTTP",
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url"),
        description="Slack Web API base URL (point it at a local server for tests)",
    )
    slack_channel: str | None = Field(None, description="Channel id (C…) where ticket threads are posted")
    slack_managers_channel: str | None = Field(
        None, description="Channel id (C…) where the daily digest is posted; unset: no digest"
    )

    # --- Discord ---
    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token"),
        description="Discord bot token; unset disables Discord",
    )
    discord_channel: str | None = Field(
        None, description="Id of the forum channel, or text channel, where each ticket becomes a thread"
    )
    discord_guild: str | None = Field(None, description="Id of the Discord server (guild); /ticket is registered there")
    discord_managers_channel: str | None = Field(
        None, description="Id of the Discord text channel where the daily digest is posted; unset: none there"
    )

    # --- scheduler ---
    timezone: str = Field("UTC", description="IANA time zone of the schedule, e.g. Europe/Helsinki: the digest time is local to it")
    digest_time: str = Field("08:00", description="Local time (HH:MM, in TIKETTI_TIMEZONE) the daily digest is posted")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Helsinki)") from exc
        return value

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"digest time {value!r} is not HH:MM") from exc
        return value

    # --- web server ---
    http_host: str = Field("127.0.0.1", description="Address of the bot's web server (GET /healthz, GET /metrics)")
    http_port: int = Field(8080, description="Port of the bot's web server")

    # --- logging ---
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR; mail bodies are never logged at INFO")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def all_own_addresses(self) -> set[str]:
        return {a.lower() for a in [self.support_address, *self.own_addresses]}
