-- docs/decisions/012. page_callbacks: which notification each provider SID belongs to, as
-- the provider's own status callbacks told us (their URL carries n=<notification id>), so
-- an in-doubt page is matched only with its own message or call.
-- The index lets the re-drive find recent crisis contacts in the spool.

CREATE TABLE page_callbacks (
    provider_sid     text        PRIMARY KEY,
    notification_id  uuid        NOT NULL,
    provider_status  text        NOT NULL,
    seen_at          timestamptz NOT NULL
);
CREATE INDEX page_callbacks_notification ON page_callbacks (notification_id, seen_at);

CREATE INDEX ingress_spool_spooled_at ON ingress_spool (spooled_at);
