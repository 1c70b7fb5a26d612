-- The order events reached the archive. Within one topic-partition it is the log's order,
-- across restarts of an embedded broker too (there the offsets start again from 0 once the
-- archive has been restored into the empty broker, and a redelivered duplicate that was
-- never archived shifts them), so `dispatch restore` replays the archive by it.
ALTER TABLE event_archive ADD COLUMN archived_seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX event_archive_in_order ON event_archive (archived_seq);
