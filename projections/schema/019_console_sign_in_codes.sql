-- One-time sign-in codes sent by SMS to a console account's staff phone (issue 11).
-- Operational state like console_sessions: never an event. Only an argon2id hash of the
-- code is kept; a new code replaces the account's previous one; using it deletes it.
CREATE TABLE console_sign_in_codes (
    account_id   text        PRIMARY KEY REFERENCES console_accounts ON DELETE CASCADE,
    code_hash    text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text        NOT NULL
);
CREATE INDEX console_sign_in_codes_by_expiry ON console_sign_in_codes (expires_at);
