"""Configuration from the environment (pydantic-settings); nothing is read at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the system. Unset infrastructure URLs mean "use the embedded part"."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    # Infrastructure. Empty means embedded (tansu broker / embedded PostgreSQL / sandbox).
    kafka_bootstrap_servers: str = Field(default="", description="host:port list; empty = embedded")
    database_url: str = Field(default="", description="postgresql:// URL; empty = embedded")
    embedded_broker: bool = Field(
        default=False,
        description="Apply compatibility fixes for the embedded tansu broker (set by the stack).",
    )

    # Twilio. With no TWILIO_API_BASE_URL the embedded sandbox is started and used.
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: SecretStr = SecretStr("sandbox-auth-token")
    twilio_api_base_url: str = Field(default="", description="e.g. https://api.twilio.com")
    twilio_from_number: str = "+15005550006"
    twilio_extra_senders: str = Field(
        default="", description="comma list of more paging numbers (a sender pool)"
    )
    crisis_line_number: str = "+15005550001"
    callback_promise_minutes: int = Field(
        default=15, ge=1, le=240, description="what an unanswered caller is promised"
    )
    page_validity_seconds: int = Field(default=600, ge=1, le=36000)
    reply_decision_wait_s: float = Field(
        default=5.0,
        ge=0,
        le=12,
        description="how long a voice key press or API action waits to be told its decision",
    )

    # Public web endpoints (Twilio webhooks, HTTP API).
    web_host: str = "127.0.0.1"
    web_port: int = 0
    public_base_url: str = Field(
        default="", description="URL Twilio uses to reach the webhooks; empty = http://host:port"
    )
    api_tokens: str = Field(
        default="",
        description=(
            "comma list of token:team_id:role[:staff_id] for the HTTP API (empty: API refuses all)"
        ),
    )

    # Stream processing.
    faust_app_id: str = "act-dispatch"
    faust_data_dir: Path = Path("var/faust")
    broker_session_timeout_s: float = Field(default=6.0, gt=0)
    broker_rebalance_timeout_s: float = Field(default=5.0, gt=0)
    broker_heartbeat_interval_s: float = Field(default=1.0, gt=0)
    consumer_fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        description="cap on the fetch long-poll (tansu sleeps it in full; 0 returns nothing)",
    )
    broker_commit_interval_s: float = Field(
        default=2.8, gt=0, description="how often the worker commits consumed offsets"
    )
    escalation_tick_s: float = Field(
        default=0.5, gt=0, le=60, description="how often the escalation timer looks for deadlines"
    )
    topic_partitions: int = Field(default=4, ge=1)
    voice_redial_delay_s: float = Field(
        default=60.0, gt=0, le=3600, description="wait before an unanswered voice page is redialled"
    )

    # Nothing accepted is lost (docs/decisions/012).
    agent_poison_after: int = Field(
        default=3, ge=1, description="same non-transient error this often: dead-letter the event"
    )
    agent_retry_max_wait_s: float = Field(
        default=30.0, gt=0, description="longest wait between retries of an event in place"
    )
    agent_retry_log_every_s: float = Field(
        default=30.0, gt=0, description="at most one retry warning per event this often"
    )
    page_retry_first_s: float = Field(
        default=15.0, gt=0, description="first retry of a page the provider kept failing"
    )
    page_retry_max_s: float = Field(default=300.0, gt=0, description="longest wait between them")
    page_retry_limit: int = Field(default=20, ge=0, description="retries of one page at most")
    redrive_after_s: float = Field(
        default=30.0,
        gt=0,
        description="a crisis contact with no dispatch after this long is published again",
    )
    redrive_lookback_s: float = Field(
        default=3600.0, gt=0, description="how far back crisis contacts are checked"
    )
    page_callback_wait_s: float = Field(
        default=5.0,
        ge=0,
        description="how long an in-doubt page waits for its own status callback",
    )

    # Embedded stack.
    state_dir: Path = Path("var")
    log_format: str = Field(default="console", pattern="^(console|json)$")
    log_level: str = "info"

    def extra_sender_numbers(self) -> tuple[str, ...]:
        """TWILIO_EXTRA_SENDERS as a tuple of E.164 numbers."""
        return tuple(n.strip() for n in self.twilio_extra_senders.split(",") if n.strip())

    def api_token_table(self) -> dict[str, tuple[str, str, str | None]]:
        """token -> (team_id, role, staff_id or None), parsed from API_TOKENS.

        Each entry is `token:team_id:role` or `token:team_id:role:staff_id`; only a token
        naming a staff member may act on dispatches (acknowledge, pass on, resolve).
        """
        table: dict[str, tuple[str, str, str | None]] = {}
        for item in filter(None, (part.strip() for part in self.api_tokens.split(","))):
            parts = item.split(":", 3)
            if len(parts) < 3 or not all(parts):
                raise ValueError("API_TOKENS entries are token:team_id:role[:staff_id]")
            token, team_id, role, *staff = parts
            table[token] = (team_id, role, staff[0] if staff else None)
        return table
