-- Paging: a page not sent because its dispatch was already taken or closed (PageCancelled).
-- 'cancelled' ranks with 'sent': it replaces only 'requested', and neither replaces the other.
ALTER TABLE pages DROP CONSTRAINT pages_status_check;
ALTER TABLE pages ADD CONSTRAINT pages_status_check
    CHECK (status IN ('requested', 'sent', 'delivered', 'failed', 'cancelled'));

CREATE OR REPLACE FUNCTION page_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE status WHEN 'requested' THEN 0 WHEN 'sent' THEN 1 WHEN 'cancelled' THEN 1
                       WHEN 'failed' THEN 2 WHEN 'delivered' THEN 3 END;
