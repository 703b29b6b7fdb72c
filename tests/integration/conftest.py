"""Integration fixtures: the standalone S3-compatible server (`s3_server`, `s3_bucket`) from
tests/s3_server.py, registered here by import so every integration test can ask for them."""

from tests.s3_server import s3_bucket, s3_server  # noqa: F401
