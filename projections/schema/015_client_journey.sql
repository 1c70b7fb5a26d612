-- The client journey (dispatch/clients): referral, caseload status, transfer, discharge,
-- the care plan under the Care Programme Approach, richer contacts, and the open work the
-- risk agent closes (outreach tasks, post-crisis follow-ups). Event times only.

-- A client's place on a caseload. A pending transfer keeps the client with the old team
-- (team_id) until the new team's first face-to-face visit (TransferCompleted).
ALTER TABLE clients
    ADD COLUMN status              text NOT NULL DEFAULT 'enrolled'
                                   CHECK (status IN ('enrolled', 'discharged')),
    ADD COLUMN care_coordinator_id text,
    ADD COLUMN cultural_needs      text NOT NULL DEFAULT '',
    ADD COLUMN other_phones        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN contact_target_days double precision,
    ADD COLUMN enrolled_at         timestamptz,
    ADD COLUMN discharged_at       timestamptz,
    ADD COLUMN transfer_to_team_id text,
    ADD COLUMN transfer_requested_at timestamptz;
UPDATE clients SET enrolled_at = updated_at WHERE enrolled_at IS NULL;
CREATE INDEX clients_by_transfer_team ON clients (transfer_to_team_id)
    WHERE transfer_to_team_id IS NOT NULL;
CREATE INDEX clients_by_other_phone ON clients USING gin (other_phones);

-- One row per referral; its status only moves forward (open -> accepted | declined).
CREATE TABLE referrals (
    referral_id       uuid        PRIMARY KEY,
    client_id         text        NOT NULL,
    team_id           text        NOT NULL,
    display_name      text        NOT NULL,
    source            text        NOT NULL,
    source_team       text,
    criteria_met      text[]      NOT NULL,
    note              text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('open', 'accepted', 'declined')),
    received_at       timestamptz NOT NULL,
    decided_at        timestamptz,
    decline_reason    text
);
CREATE INDEX referrals_by_team ON referrals (team_id, received_at);
CREATE INDEX referrals_by_client ON referrals (client_id, received_at);

-- The care plan in force: recorded, then reviewed; a review is due six months on.
CREATE TABLE care_plans (
    client_id            text        PRIMARY KEY,
    team_id              text        NOT NULL,
    care_coordinator_id  text        NOT NULL,
    summary              text        NOT NULL,
    goals                text[]      NOT NULL,
    recorded_at          timestamptz NOT NULL,
    reviewed_at          timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    updated_by_event     uuid        NOT NULL
);

-- Contacts: every staff member on a visit counts it (the team approach).
ALTER TABLE client_contacts
    ADD COLUMN staff_ids text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN place     text,
    ADD COLUMN minutes   integer,
    ADD COLUMN team_id   text;
UPDATE client_contacts SET staff_ids = ARRAY[staff_id] WHERE staff_ids = '{}';
CREATE INDEX client_contacts_by_staff ON client_contacts USING gin (staff_ids);

-- An outreach task is due until a face-to-face contact closes it (OutreachTaskClosed).
ALTER TABLE outreach_tasks
    ADD COLUMN closed_at        timestamptz,
    ADD COLUMN closed_by        text,
    ADD COLUMN closed_by_event  uuid;

-- Post-crisis follow-ups: opened when a crisis dispatch is resolved, due by due_at, closed
-- by a contact (FollowUpClosed).
CREATE TABLE follow_ups (
    follow_up_id      uuid        PRIMARY KEY,
    client_id         text        NOT NULL,
    team_id           text        NOT NULL,
    dispatch_id       uuid        NOT NULL,
    reason            text        NOT NULL,
    opened_at         timestamptz NOT NULL,
    due_at            timestamptz NOT NULL,
    closed_at         timestamptz,
    closed_by         text,
    closed_by_event   uuid
);
CREATE INDEX follow_ups_open_by_client ON follow_ups (client_id, due_at) WHERE closed_at IS NULL;

-- The journey's decisions read a client's own events: those archived, then those the edge
-- has spooled and the archive does not have yet (its own writes, read back at once).
CREATE INDEX ingress_spool_by_key ON ingress_spool (key, seq);
