"""``feedback``: the operator's command line, a client of the ingest and analyzer HTTP APIs (docs/cli.md)."""
