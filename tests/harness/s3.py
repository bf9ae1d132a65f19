"""A real S3-protocol server (moto in server mode) on a loopback port."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.harness.ports import free_port

# moto accepts any credentials; these make clients sign requests instead of looking elsewhere.
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "eoaccess-test",
    "AWS_SECRET_ACCESS_KEY": "eoaccess-test-secret",
    "AWS_DEFAULT_REGION": "us-west-2",
}


@dataclass
class S3Server:
    """A running moto server; ``endpoint`` is its base URL."""

    endpoint: str
    _server: object

    def client(self):  # type: ignore[no-untyped-def]
        """A boto3 S3 client bound to this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=TEST_CREDENTIALS["AWS_DEFAULT_REGION"],
        )

    def upload_tree(self, root: Path, bucket: str, prefix: str = "") -> int:
        """Create ``bucket`` (if needed) and copy every file under ``root`` to ``prefix``; return count."""
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            client.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={
                    "LocationConstraint": TEST_CREDENTIALS["AWS_DEFAULT_REGION"]
                },
            )
        count = 0
        for path in sorted(root.rglob("*")):
            if path.is_file():
                key = "/".join(
                    p for p in (prefix.strip("/"), path.relative_to(root).as_posix()) if p
                )
                client.upload_file(os.fspath(path), bucket, key)
                count += 1
        return count

    def stop(self) -> None:
        self._server.stop()  # type: ignore[attr-defined]


def start_s3_server() -> S3Server:
    """Start moto's threaded server on a free loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return S3Server(endpoint=f"http://127.0.0.1:{port}", _server=server)
