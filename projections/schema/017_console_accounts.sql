-- The web console's people and sessions (issue 11). Operational state like the ingress
-- spool, not events: a password hash or a session token never goes to Kafka or the archive.

-- One account per person. account_id is the sign-in name: the staff id of a staff member
-- (staff_id equal to it), or the name of an admin who is not on any team's staff.
-- A staff account's team is always the staff read model's (a leaver is refused there);
-- team_id is kept only for an account that is not a staff member.
CREATE TABLE console_accounts (
    account_id        text        PRIMARY KEY,
    staff_id          text        UNIQUE,
    team_id           text,
    role              text        NOT NULL
                                  CHECK (role IN ('staff', 'team_lead', 'manager', 'admin')),
    password_hash     text,                     -- argon2id; NULL until the person sets one
    password_set_at   timestamptz,
    setup_digest      text        UNIQUE,       -- SHA-256 of the one-time setup link's token
    setup_expires_at  timestamptz,
    created_at        timestamptz NOT NULL,
    created_by        text        NOT NULL,
    disabled_at       timestamptz
);

-- A signed-in browser: the cookie holds a random token, only its SHA-256 is kept here.
CREATE TABLE console_sessions (
    session_digest    text        PRIMARY KEY,
    account_id        text        NOT NULL REFERENCES console_accounts ON DELETE CASCADE,
    csrf_token        text        NOT NULL,     -- every POST of this session must carry it
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    ip                text        NOT NULL,
    notice            text                      -- shown once on the next page (after a form)
);
CREATE INDEX console_sessions_by_account ON console_sessions (account_id);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

-- Failed sign-ins, counted per name typed and per address over a window (rate limit).
CREATE TABLE console_login_failures (
    account_id        text        NOT NULL,
    ip                text        NOT NULL,
    failed_at         timestamptz NOT NULL
);
CREATE INDEX console_login_failures_by_account ON console_login_failures (account_id, failed_at);
CREATE INDEX console_login_failures_by_ip ON console_login_failures (ip, failed_at);
