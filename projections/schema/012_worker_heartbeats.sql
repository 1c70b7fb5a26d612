-- Health (docs/decisions/014). Each worker records, every few seconds, that it is alive and
-- which partitions it consumes (dispatch/worker/heartbeat.py); /health reads the freshest.
-- Operational, like ingress_spool: not a fold of events.
CREATE TABLE worker_heartbeats (
    worker_id     text        PRIMARY KEY,   -- host:pid
    started_at    timestamptz NOT NULL,
    beat_at       timestamptz NOT NULL,      -- the worker's last write
    consuming_at  timestamptz,               -- the last beat with partitions and no rebalance
    assignment    text[]      NOT NULL,      -- topic:partition of the event topics it owns
    lag           bigint                     -- messages behind the ends of those partitions
);

-- The spool by age, for "accepted crisis contacts still waiting for a page".
CREATE INDEX ingress_spool_by_time ON ingress_spool (spooled_at);

-- The pages of a dispatch, for "has this contact's dispatch had a page sent yet?".
CREATE INDEX page_ledger_by_dispatch ON page_ledger (dispatch_id) WHERE state = 'sent';
