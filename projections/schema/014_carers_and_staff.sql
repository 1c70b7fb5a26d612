-- Carers' consent and assessments, and staff leaving (issue 9). Newest writer wins on
-- every row (updated_at, updated_by_event), so replays in any order change nothing twice.

-- The consent in force between a client and one carer: what may be shared and until when
-- it is to be reviewed; revoked_at set once it is withdrawn. carers.consents is kept equal
-- to "a consent is in force" (the risk intake reads it for carers' signals).
CREATE TABLE carer_consents (
    client_id         text        NOT NULL,
    carer_id          text        NOT NULL,
    shares            text[]      NOT NULL,
    review_by         date,
    granted_at        timestamptz,
    revoked_at        timestamptz,
    recorded_by       text        NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL,
    PRIMARY KEY (client_id, carer_id)
);

-- A carer's own assessment and care plan (the newest one is in force) and its review date.
CREATE TABLE carer_assessments (
    client_id         text        NOT NULL,
    carer_id          text        NOT NULL,
    needs             text[]      NOT NULL,
    support           text[]      NOT NULL,
    review_by         date        NOT NULL,
    assessed_by       text        NOT NULL,
    assessed_at       timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL,
    PRIMARY KEY (client_id, carer_id)
);

-- When a staff member leaves (left_at, possibly ahead); NULL again once they rejoin.
CREATE TABLE staff_departures (
    staff_id          text        PRIMARY KEY,
    team_id           text        NOT NULL,
    left_at           timestamptz,
    reason            text        NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL
);
CREATE INDEX staff_departures_by_team ON staff_departures (team_id);

-- staff.left_at mirrors staff_departures (kept in step by the roster projection). A work
-- phone passes from a leaver to a joiner: a number is unique among those not leaving only.
ALTER TABLE staff ADD COLUMN left_at timestamptz;
ALTER TABLE staff DROP CONSTRAINT staff_phone_key;
CREATE UNIQUE INDEX staff_phone_current ON staff (phone) WHERE left_at IS NULL;
CREATE INDEX staff_by_phone ON staff (phone);
