-- Read models: folds of the events, in event time. Upserts carry (updated_at,
-- updated_by_event) so a replayed or late older event never overwrites a newer one.

CREATE TABLE teams (
    team_id           text        PRIMARY KEY,
    name              text        NOT NULL,
    service_model     text        NOT NULL,
    time_zone         text        NOT NULL,
    fallback_number   text        NOT NULL,
    crisis_line_number text,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL
);
CREATE INDEX teams_by_crisis_line ON teams (crisis_line_number);

CREATE TABLE staff (
    staff_id          text        PRIMARY KEY,
    team_id           text        NOT NULL,
    display_name      text        NOT NULL,
    role              text        NOT NULL,
    gender            text        NOT NULL,
    phone             text        NOT NULL UNIQUE,
    languages         text[]      NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL
);
CREATE INDEX staff_by_team ON staff (team_id);

-- One row per ShiftAssigned event; the newest assignment covering an instant wins.
CREATE TABLE shifts (
    assigned_by_event  uuid        PRIMARY KEY,
    team_id            text        NOT NULL,
    staff_id           text        NOT NULL,
    layer              text        NOT NULL CHECK (layer IN ('primary', 'backup')),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    assigned_at        timestamptz NOT NULL
);
CREATE INDEX shifts_by_team_time ON shifts (team_id, layer, starts_at, ends_at);

CREATE TABLE clients (
    client_id         text        PRIMARY KEY,
    team_id           text        NOT NULL,
    display_name      text        NOT NULL,
    phone             text,
    preferred_gender  text        NOT NULL,
    language          text        NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL
);
CREATE INDEX clients_by_phone ON clients (phone);
CREATE INDEX clients_by_team ON clients (team_id);

-- A carer may look after more than one client: one row per (client, carer).
CREATE TABLE carers (
    client_id         text        NOT NULL,
    carer_id          text        NOT NULL,
    display_name      text        NOT NULL,
    phone             text        NOT NULL,
    relationship      text        NOT NULL,
    consents          boolean     NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL,
    PRIMARY KEY (client_id, carer_id)
);
CREATE INDEX carers_by_phone ON carers (phone);

-- Status only moves forward: open < acknowledged < resolved. A row created by a late
-- acknowledgement has NULL opening fields until its DispatchOpened is projected.
CREATE FUNCTION dispatch_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 WHEN 'resolved' THEN 2 END;

CREATE TABLE dispatches (
    dispatch_id        uuid        PRIMARY KEY,
    short_code         text,
    team_id            text,
    client_id          text,
    caller_kind        text,
    reason             text,
    risk_level         text,
    assigned_staff_id  text,
    status             text        NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    opened_at          timestamptz,
    acknowledged_at    timestamptz,
    acknowledged_by    text,
    resolved_at        timestamptz,
    resolved_by        text,
    outcome            text,
    correlation_id     uuid        NOT NULL,
    source_event_id    uuid
);
CREATE INDEX dispatches_by_code ON dispatches (short_code, opened_at DESC);
CREATE INDEX dispatches_unresolved_by_team ON dispatches (team_id, opened_at)
    WHERE status <> 'resolved';

-- Status only moves forward: requested < sent < failed < delivered (a provider's
-- "delivered" is the strongest fact: somebody's phone has the page).
CREATE FUNCTION page_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE status WHEN 'requested' THEN 0 WHEN 'sent' THEN 1 WHEN 'failed' THEN 2
                       WHEN 'delivered' THEN 3 END;

CREATE TABLE pages (
    notification_id  uuid        PRIMARY KEY,
    dispatch_id      uuid        NOT NULL,
    step             integer,
    attempt          integer,
    channel          text,
    staff_id         text,
    requested_at     timestamptz,
    status           text        NOT NULL
                                 CHECK (status IN ('requested', 'sent', 'delivered', 'failed')),
    provider_sid     text,
    failure_reason   text,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX pages_by_dispatch ON pages (dispatch_id, requested_at);
