-- Risk read models (dispatch/risk): each client's current level and its history, the
-- relapse signals and contacts the huddle board lists, plans and outreach tasks.
-- Rows carry event times only; history rows are keyed by event id (a replay adds nothing).

CREATE TABLE client_risk (
    client_id          text        PRIMARY KEY,
    team_id            text,
    level              text        NOT NULL
                                   CHECK (level IN ('stable', 'elevated', 'high', 'crisis')),
    score              double precision NOT NULL,
    reasons            text[]      NOT NULL,
    changed_at         timestamptz NOT NULL,
    changed_by_event   uuid        NOT NULL
);
CREATE INDEX client_risk_by_team ON client_risk (team_id);

CREATE TABLE risk_changes (
    event_id      uuid        PRIMARY KEY,
    client_id     text        NOT NULL,
    team_id       text,
    from_level    text        NOT NULL,
    to_level      text        NOT NULL,
    score         double precision NOT NULL,
    reasons       text[]      NOT NULL,
    occurred_at   timestamptz NOT NULL
);
CREATE INDEX risk_changes_by_client ON risk_changes (client_id, occurred_at);

CREATE TABLE relapse_signals (
    event_id      uuid        PRIMARY KEY,
    client_id     text        NOT NULL,
    source        text        NOT NULL,
    sign          text        NOT NULL,
    severity      integer     NOT NULL,
    actor         text        NOT NULL,
    occurred_at   timestamptz NOT NULL
);
CREATE INDEX relapse_signals_by_client ON relapse_signals (client_id, occurred_at);

CREATE TABLE client_contacts (
    event_id      uuid        PRIMARY KEY,
    client_id     text        NOT NULL,
    staff_id      text        NOT NULL,
    kind          text        NOT NULL,
    occurred_at   timestamptz NOT NULL
);
CREATE INDEX client_contacts_by_client ON client_contacts (client_id, kind, occurred_at);

-- The plan in force: the newest Recorded/Revised event wins. Review due six months on.
CREATE TABLE relapse_plans (
    client_id         text        PRIMARY KEY,
    plan              jsonb       NOT NULL,
    reviewed_at       timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL
);

CREATE TABLE outreach_tasks (
    task_id          uuid        PRIMARY KEY,
    client_id        text        NOT NULL,
    team_id          text,
    reasons          text[]      NOT NULL,
    due_by           date        NOT NULL,
    notified_staff_id text,
    created_at       timestamptz NOT NULL
);
CREATE INDEX outreach_tasks_by_client ON outreach_tasks (client_id, created_at);

-- In hospital or not: the newest admission/discharge event wins.
CREATE TABLE hospital_stays (
    client_id         text        PRIMARY KEY,
    admitted          boolean     NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL
);

-- One row per contact gap the risk timer alerted (the id derives from the gap).
CREATE TABLE missed_contact_alerts (
    event_id      uuid        PRIMARY KEY,
    client_id     text        NOT NULL,
    team_id       text,
    since         timestamptz NOT NULL,
    overdue_at    timestamptz NOT NULL
);
CREATE INDEX missed_contact_alerts_by_client ON missed_contact_alerts (client_id, overdue_at);
