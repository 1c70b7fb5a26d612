"""Configuration from the environment (pydantic-settings); nothing is read at import time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

HASHED_PREFIX = "sha256"


@dataclass(frozen=True)
class ApiToken:
    """One API_TOKENS entry: the SHA-256 digest of the token, never the token itself.

    `hashed` False: the entry gave the token in plain text (accepted in development only).
    """

    digest: bytes
    team_id: str
    role: str
    staff_id: str | None
    hashed: bool


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _api_token(item: str) -> ApiToken:
    """`sha256:<64 hex>:team:role[:staff]` or `token:team:role[:staff]` (plain)."""
    head, _, rest = item.partition(":")
    hex_digest, _, hashed_rest = rest.partition(":")
    if head == HASHED_PREFIX and len(hex_digest) == 64:
        try:
            digest = bytes.fromhex(hex_digest)
        except ValueError:
            raise ValueError("API_TOKENS: sha256: needs 64 hex digits") from None
        fields, hashed = hashed_rest.split(":", 2), True
    else:
        digest, fields, hashed = token_digest(head), rest.split(":", 2), False
    if not head or len(fields) < 2 or not all(fields):
        raise ValueError(
            "API_TOKENS entries are token:team_id:role[:staff_id] "
            "or sha256:<hex>:team_id:role[:staff_id]"
        )
    team_id, role, *staff = fields
    return ApiToken(digest, team_id, role, staff[0] if staff else None, hashed)


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
    twilio_keep_warm_s: float = Field(
        default=20.0,
        ge=0,
        le=50,
        description=(
            "how often a worker reads the Twilio account (nothing sent) to keep the next "
            "page's connection open; 0: only at start (docs/decisions/046)"
        ),
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
    console_session_hours: float = Field(
        default=12.0, gt=0, le=24 * 7, description="a web console sign-in lasts this long"
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
    worker_producer_linger_ms: int = Field(
        default=3,
        ge=0,
        le=100,
        description="how long the worker's producer gathers appends into one request",
    )
    projector_pace_ms: int = Field(
        default=20,
        ge=0,
        le=1000,
        description="the projector's least time between transactions while it is busy",
    )
    risk_reader_fetch_max_wait_ms: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="the same cap for the risk reader, which no page waits on",
    )
    agents_fetch_max_wait_ms: int = Field(
        default=200,
        ge=1,
        le=5000,
        description=(
            "the same cap for the worker's faust agents (escalation, failover, replies, the"
            " page topic's copy): no first page waits on them"
        ),
    )
    risk_reader_commit_interval_s: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="how often at most the risk reader writes its changed states and commits",
    )
    worker_crisis_contacts_at_once: int = Field(
        default=16,
        ge=1,
        le=256,
        description="crisis calls and texts a worker decides at once (each waits on reads)",
    )
    worker_pages_at_once: int = Field(
        default=32,
        ge=1,
        le=256,
        description="pages a worker has with the provider at once (keep under its API limit)",
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
    follow_up_within_h: float = Field(
        default=24.0, gt=0, le=168, description="a resolved crisis is followed up within this"
    )

    # Health, metrics, the escalation auditor and the dead-man's switch (docs/decisions/014).
    worker_heartbeat_s: float = Field(
        default=2.0, gt=0, le=60, description="how often a worker records that it is consuming"
    )
    health_worker_stale_s: float = Field(
        default=15.0, gt=0, description="red when no worker was consuming for this long"
    )
    health_spool_stale_s: float = Field(
        default=30.0, gt=0, description="red when an accepted event waits this long for the broker"
    )
    health_page_wait_s: float = Field(
        default=30.0, gt=0, description="red when a crisis contact waits this long for a page"
    )
    health_contact_lookback_s: float = Field(
        default=21600.0, gt=0, description="how far back health and metrics look at contacts"
    )
    health_probe_timeout_s: float = Field(
        default=0.8, gt=0, le=5, description="each probe's budget: /health answers within it"
    )
    health_cache_s: float = Field(
        default=1.0, ge=0, le=10, description="probes are run at most this often"
    )
    health_broker_partition_records: int = Field(
        default=2000,
        ge=1,
        description="red when a partition of the embedded broker took this many records since it "
        "was started or restored",
    )
    health_broker_history_every_s: float = Field(
        default=60.0, gt=0, le=3600, description="how often that fill is read"
    )
    broker_renew_after_records: int = Field(
        default=1000,
        ge=0,
        description="the embedded broker is renewed (restarted empty, what the workers need "
        "restored) in a quiet moment once a partition took this many records; 0: never",
    )
    broker_renew_quiet_s: float = Field(
        default=600.0,
        ge=0,
        description="quiet: no dispatch open, no call waiting to be published, and no call "
        "accepted and nothing archived for this long",
    )
    escalation_audit_tick_s: float = Field(
        default=5.0, gt=0, le=300, description="how often the auditor looks for late steps"
    )
    escalation_audit_grace_s: float = Field(
        default=30.0, gt=0, description="a step this late past its deadline is re-driven"
    )
    heartbeat_url: str = Field(
        default="", description="POSTed while /health is green (dead-man's switch); empty: off"
    )
    heartbeat_interval_s: float = Field(default=30.0, gt=0, le=3600)

    # When PostgreSQL is down (the web edge answers from memory; docs/decisions/013).
    environment: str = Field(
        default="development",
        pattern="^(development|production)$",
        description="production: built-in secrets and plain API tokens refuse to start",
    )
    default_crisis_number: str = Field(
        default="+15005550009",
        description="who a call nothing else routes is put through to (an unknown line, "
        "no rota at all) and what the static fallback TwiML dials",
    )
    rota_cache_refresh_s: float = Field(
        default=15.0,
        ge=0,
        le=300,
        description="how often the web edge re-reads its rota cache, besides on each change",
    )
    rota_cache_horizon_h: float = Field(
        default=12.0, gt=0, le=168, description="how far ahead the rota cache knows who is on duty"
    )
    edge_db_timeout_s: float = Field(
        default=2.0, gt=0, le=10, description="a webhook's wait for PostgreSQL before memory"
    )
    fallback_twiml_port: int = Field(
        default=0, ge=0, description="port of the static fallback TwiML server (0: any free)"
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
    # 30 s, not minutes: after a provider outage a page waits at most this for its retry.
    page_retry_max_s: float = Field(default=30.0, gt=0, description="longest wait between them")
    page_retry_limit: int = Field(default=120, ge=0, description="retries of one page at most")
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

    def api_token_table(self) -> tuple[ApiToken, ...]:
        """API_TOKENS parsed: each entry `sha256:<hex of the token's SHA-256>:team_id:role`
        (optionally `:staff_id`), or the same with the token itself in place of
        `sha256:<hex>` (plain: development only). Only a token naming a staff member may
        act on dispatches (acknowledge, pass on, resolve)."""
        items = filter(None, (part.strip() for part in self.api_tokens.split(",")))
        return tuple(_api_token(item) for item in items)

    def real_twilio(self) -> bool:
        """TWILIO_API_BASE_URL is Twilio itself (a *.twilio.com host), not the sandbox."""
        host = urlsplit(self.twilio_api_base_url).hostname or ""
        return host == "twilio.com" or host.endswith(".twilio.com")

    def production(self) -> bool:
        """Real Twilio configured, or ENVIRONMENT=production."""
        return self.environment == "production" or self.real_twilio()
