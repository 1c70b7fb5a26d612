"""The demo: a seeded ACT team and one crisis call played end to end."""
