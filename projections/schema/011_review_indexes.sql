-- The review's reads of the archive: events naming a client in their payload, the audit's
-- lists of clients read, and events by type (dispatch openings, enrolments, meetings).
CREATE INDEX event_archive_by_client ON event_archive ((payload->>'client_id'), occurred_at);
CREATE INDEX event_archive_by_clients_read ON event_archive USING gin ((payload->'client_ids'))
    WHERE type = 'ClientRecordsViewed';
CREATE INDEX event_archive_by_type ON event_archive (type, occurred_at);
