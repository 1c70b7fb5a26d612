"""The crisis line: calls and texts in, dispatches and pages out."""
