"""Search benchmark: embedded SQLite catalog vs PostgreSQL + pgstac (python -m benchmarks.search)."""
