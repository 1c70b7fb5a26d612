"""Escalation: unacknowledged dispatches move up a frozen policy until someone answers."""
