"""Client risk from relapse signals, contacts and crisis calls: fold, decisions, agent."""
