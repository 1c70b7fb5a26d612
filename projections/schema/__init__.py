"""SQL migrations, applied in file-name order by projections.migrations (package data)."""
