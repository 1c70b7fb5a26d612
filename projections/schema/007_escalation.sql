-- Escalation: each team's current policy, and how far each dispatch has escalated.
CREATE TABLE escalation_policies (
    team_id           text        PRIMARY KEY,
    policy            jsonb       NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL
);

ALTER TABLE dispatches
    ADD COLUMN escalation_sequence integer NOT NULL DEFAULT 0,
    ADD COLUMN escalated_at        timestamptz,
    ADD COLUMN exhausted           boolean NOT NULL DEFAULT false;
