"""Clients and their carers: who is on a team's caseload and every contact with them."""
