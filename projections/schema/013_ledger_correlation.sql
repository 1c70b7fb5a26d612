-- The correlation id of a page's dispatch, so a reply found through the ledger (before the
-- dispatch's row is projected) joins the dispatch's timeline like every other event of it.
ALTER TABLE page_ledger ADD COLUMN correlation_id uuid;
