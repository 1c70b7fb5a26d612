-- Operational tables other modules keep in the same database (not read models):
-- dispatch/ingress/spool.py (events stored before Kafka has them) and
-- dispatch/paging/ledger.py (one row per notification id, so a page is sent once).

CREATE TABLE ingress_spool (
    seq           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      uuid        NOT NULL UNIQUE,
    topic         text        NOT NULL,
    key           text        NOT NULL,
    value         bytea       NOT NULL,
    spooled_at    timestamptz NOT NULL,
    published_at  timestamptz
);
CREATE INDEX ingress_spool_unpublished ON ingress_spool (seq) WHERE published_at IS NULL;

CREATE TABLE page_ledger (
    notification_id  uuid        PRIMARY KEY,
    dispatch_id      uuid        NOT NULL,
    channel          text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('claimed', 'sent', 'failed')),
    claimed_at       timestamptz NOT NULL,
    claims           integer     NOT NULL DEFAULT 1,
    provider_sid     text,
    provider_status  text,
    failure_reason   text,
    updated_at       timestamptz NOT NULL
);
