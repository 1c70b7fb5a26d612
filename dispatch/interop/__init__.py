"""Bulk and interoperable import and export: a team's clients, carers and staff from CSV, and
a FHIR R4 Bundle in and out. Every row or resource is decided by the same services the
commands use, the whole file before anything is recorded (dispatch/commands/imports.py)."""
