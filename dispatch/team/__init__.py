"""The team's own practice: the daily team meeting."""
