-- Every event the projector has seen, once, in the shape the registry decoded it to.
-- Append-only: with an embedded (memory-only) broker this is the durable copy of the log.
CREATE TABLE event_archive (
    event_id        uuid        PRIMARY KEY,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    key             text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    actor           text        NOT NULL,
    payload         jsonb       NOT NULL,
    topic           text,
    partition       integer,
    "offset"        bigint
);

CREATE INDEX event_archive_by_correlation ON event_archive (correlation_id, occurred_at, recorded_at);
CREATE INDEX event_archive_by_key ON event_archive (key, occurred_at, recorded_at);
CREATE INDEX event_archive_by_time ON event_archive (occurred_at, recorded_at);

CREATE FUNCTION event_archive_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'event_archive is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER event_archive_append_only
    BEFORE UPDATE OR DELETE ON event_archive
    FOR EACH STATEMENT EXECUTE FUNCTION event_archive_refuse_change();
