-- Staff replies are decided by the dispatch's agent (StaffReplyDecided). The web edge that
-- received a voice keypress or an API action waits for its decision here.
CREATE TABLE staff_replies (
    reply_event_id  uuid        PRIMARY KEY,
    dispatch_id     uuid        NOT NULL,
    short_code      text        NOT NULL,
    channel         text        NOT NULL,
    verb            text        NOT NULL,
    staff_id        text        NOT NULL,
    accepted        boolean     NOT NULL,
    reason          text        NOT NULL,
    holder          text,
    dispatch_status text        NOT NULL,
    decided_at      timestamptz NOT NULL
);
CREATE INDEX staff_replies_dispatch ON staff_replies (dispatch_id, decided_at);

-- The code and the person of a page, so a reply to it (a text with the code, a key pressed
-- on the call) finds its dispatch and replier from the ledger row the notifier wrote before
-- sending, never from a read model that may lag the page.
ALTER TABLE page_ledger ADD COLUMN short_code text;
ALTER TABLE page_ledger ADD COLUMN staff_id text;
CREATE INDEX page_ledger_short_code ON page_ledger (short_code, claimed_at);
