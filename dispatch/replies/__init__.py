"""Staff replies (SMS, voice keypress, API action): received at the edge, decided by the
agent that folds the dispatch's own events."""
