"""Search benchmark: eoaccess's STAC API (embedded and pgstac catalogs) against
stac-fastapi-pgstac on one synthetic catalog (python -m benchmarks.search)."""
