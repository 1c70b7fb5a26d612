-- The rota read model (dispatch/rota): one row per rota entry of a team, the newest
-- writer wins (updated_at, updated_by_event), so a replayed or late older event never
-- overwrites a newer one. payload is the entry's event payload (JSON), NULL once a
-- rotation is retired or an override cancelled. Who is on call at an instant is computed
-- from these rows by the same pure function the domain uses (dispatch/rota/oncall.py).
-- ShiftAssigned stays in `shifts` (003) and counts as an explicit assignment.

CREATE TABLE rota_entries (
    team_id           text        NOT NULL,
    kind              text        NOT NULL
                                  CHECK (kind IN ('coverage', 'rotation', 'override', 'swap')),
    entry_id          text        NOT NULL,
    layer             text        CHECK (layer IN ('primary', 'backup')),
    starts_at         timestamptz,
    ends_at           timestamptz,
    payload           jsonb,
    updated_at        timestamptz NOT NULL,
    updated_by_event  uuid        NOT NULL,
    PRIMARY KEY (team_id, kind, entry_id)
);
CREATE INDEX rota_entries_by_time ON rota_entries (team_id, kind, starts_at, ends_at);
