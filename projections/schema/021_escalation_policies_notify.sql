-- The worker keeps a team's escalation policy in memory while it hears of every change to
-- the tables its answers come from (projections/read_memo.py, docs/decisions/044): the
-- policies notify the edge_facts channel too, as the routing tables do (migration 020).
CREATE TRIGGER escalation_policies_edge_facts
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON escalation_policies
    FOR EACH STATEMENT EXECUTE FUNCTION edge_facts_changed();
