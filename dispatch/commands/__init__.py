"""The `dispatch` command line, one module per group of commands."""
