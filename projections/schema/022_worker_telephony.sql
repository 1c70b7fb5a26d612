-- Each worker's heartbeat says whether it can reach the telephony provider
-- (dispatch/paging/provider_link.py, docs/decisions/046): NULL while its reads of the
-- provider's account succeed, else why they fail. /health's `telephony` check reads it.
ALTER TABLE worker_heartbeats ADD COLUMN telephony_error text;
