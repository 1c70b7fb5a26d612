"""`dispatch soak`: crisis calls at a steady rate while faults are injected, then the figures.

load.py places the calls, faults.py plans and injects the faults, observe.py reads what
the sandbox and the read model saw, report.py turns those facts into figures (pure), and
session.py runs one soak against a started Stack.
"""
