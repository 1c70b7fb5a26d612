-- Where each projection has got to: written in the same transaction as its rows.
CREATE TABLE projection_offsets (
    projection   text    NOT NULL,
    topic        text    NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint  NOT NULL CHECK (next_offset >= 0),
    PRIMARY KEY (projection, topic, partition)
);

-- Messages a projection could not use: kept with their bytes, never silently dropped.
-- stage 'decode': not a valid event; 'project': a valid event the read models refused.
CREATE TABLE dead_letters (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    projection         text        NOT NULL,
    topic              text        NOT NULL,
    partition          integer     NOT NULL,
    "offset"           bigint      NOT NULL,
    stage              text        NOT NULL CHECK (stage IN ('decode', 'project')),
    error              text        NOT NULL,
    event_id           uuid,
    key                bytea,
    raw                bytea,
    message_timestamp  timestamptz
);
-- A redelivered message is recorded once; a different message at a reused position (an
-- embedded broker restarted empty) is recorded too.
CREATE UNIQUE INDEX dead_letters_once
    ON dead_letters (projection, topic, partition, "offset", md5(coalesce(raw, ''::bytea)));
