"""The rota: covered hours, rotations, overrides and swaps as events; who is on call as a fold."""
