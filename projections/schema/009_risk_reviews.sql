-- Overdue relapse-plan reviews the risk timer flagged (PlanReviewOverdue): one row per
-- plan version (the id derives from the client and when the plan was agreed).
CREATE TABLE plan_review_alerts (
    event_id      uuid        PRIMARY KEY,
    client_id     text        NOT NULL,
    team_id       text,
    reviewed_at   timestamptz NOT NULL,
    overdue_at    timestamptz NOT NULL
);
CREATE INDEX plan_review_alerts_by_client ON plan_review_alerts (client_id, overdue_at);

-- Each client's face-to-face contact target (ContactTargetSet): the newest one wins.
CREATE TABLE client_contact_targets (
    client_id         text             PRIMARY KEY,
    team_id           text             NOT NULL,
    service_model     text             NOT NULL,
    target_days       double precision NOT NULL,
    set_at            timestamptz      NOT NULL,
    set_by_event      uuid             NOT NULL
);
