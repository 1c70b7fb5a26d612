"""The manager's review: pure functions over archived events (what happened, how fast, what
the system believed at any instant, and the team's fidelity figures)."""
