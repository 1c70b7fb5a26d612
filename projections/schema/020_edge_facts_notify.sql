-- The web edge routes calls from its memory of these tables while it hears of every change
-- to them (docs/decisions/034): each statement that changes one notifies the edge_facts
-- channel, delivered when it commits, with the table's schema (a replay's shadow tables
-- notify too; the edge heeds only the live schema's). A replay's swap moves the shadow's
-- function in with its tables (projections/replay_schema.py, READ_MODEL_FUNCTIONS).
CREATE FUNCTION edge_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('edge_facts', TG_TABLE_SCHEMA);
    RETURN NULL;
END
$$;

CREATE TRIGGER teams_edge_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
CREATE TRIGGER staff_edge_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON staff
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
CREATE TRIGGER shifts_edge_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON shifts
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
CREATE TRIGGER staff_departures_edge_facts
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON staff_departures
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
CREATE TRIGGER rota_entries_edge_facts
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rota_entries
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
CREATE TRIGGER clients_edge_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
CREATE TRIGGER carers_edge_facts AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON carers
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
