"""Real servers on loopback for the test suite: HTTP with Range, S3 (moto), PostgreSQL+PostGIS."""
