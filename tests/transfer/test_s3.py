"""The s3 backend: signing, credentials, requester-pays, region redirects, against moto and faults."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.transfer import (
    RemoteNotFoundError,
    S3Credentials,
    S3Options,
    TransferConfig,
    download,
    read_range,
)
from eoaccess.transfer._httpbase import ErrorResponse
from eoaccess.transfer._s3 import (
    BucketLocation,
    resolve_credentials,
    resolve_region,
    sign_v4,
)
from tests.harness.faults import FaultServer, s3_redirect
from tests.harness.s3 import S3Server
from tests.transfer.conftest import leftovers, payload

BUCKET = "eoaccess-transfer"
DATA = {"scenes/a b/one.tif": payload(400_000, seed=5), "scenes/two.txt": b"two\n"}


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    client = s3_server.client()
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    for key, data in DATA.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=data)
    return BUCKET


def moto(s3_server: S3Server, **options: object) -> TransferConfig:
    return TransferConfig(s3=S3Options(endpoint_url=s3_server.endpoint, **options))  # type: ignore[arg-type]


@pytest.mark.s3
def test_signed_download_from_an_s3_compatible_endpoint(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    pairs = [(f"s3://{bucket}/{key}", key) for key in DATA]
    result = download(pairs, tmp_path, config=moto(s3_server))
    assert result.ok, result.summary()
    for key, data in DATA.items():
        assert (tmp_path / key).read_bytes() == data
    missing = download([(f"s3://{bucket}/nope.bin", "nope.bin")], tmp_path, config=moto(s3_server))
    assert "NoSuchKey" in (missing.files[0].error or "")
    assert leftovers(tmp_path) == []


@pytest.mark.s3
def test_range_read_from_s3(s3_server: S3Server, bucket: str) -> None:
    url = f"s3://{bucket}/scenes/a b/one.tif"
    data = DATA["scenes/a b/one.tif"]
    assert read_range(url, 1000, 500, config=moto(s3_server)) == data[1000:1500]
    with pytest.raises(RemoteNotFoundError, match="NoSuchKey"):
        read_range(f"s3://{bucket}/missing", 0, 10, config=moto(s3_server))


@pytest.mark.s3
def test_profile_credentials_from_shared_files(
    s3_server: S3Server, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[science]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s3cr3t\n"
        "aws_session_token = tok3n\n"
    )
    config_file = tmp_path / "config"
    config_file.write_text("[profile science]\nregion = eu-central-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    options = S3Options(profile="science")
    found = resolve_credentials(options)
    assert found == S3Credentials("AKIDPROFILE", "s3cr3t", "tok3n")
    assert resolve_region(options) == "eu-central-1"
    result = download(
        [(f"s3://{bucket}/scenes/two.txt", "two.txt")],
        tmp_path / "d",
        config=moto(s3_server, profile="science"),
    )
    assert result.ok, result.summary()
    with pytest.raises(InvalidInputError, match="profile 'absent'"):
        resolve_credentials(S3Options(profile="absent"))


def test_credential_resolution_order(tmp_path: Path) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "AKIDENV",
        "AWS_SECRET_ACCESS_KEY": "envsecret",
        "AWS_SESSION_TOKEN": "envtoken",
        "HOME": str(tmp_path),
    }
    explicit = S3Credentials("AKIDX", "x")
    assert resolve_credentials(S3Options(credentials=explicit), env) is explicit
    assert resolve_credentials(S3Options(anonymous=True, credentials=explicit), env) is None
    assert resolve_credentials(S3Options(), env) == S3Credentials(
        "AKIDENV", "envsecret", "envtoken"
    )
    assert resolve_credentials(S3Options(), {"HOME": str(tmp_path)}) is None  # anonymous
    assert resolve_region(S3Options(), {"HOME": str(tmp_path)}) == "us-east-1"
    assert resolve_region(S3Options(region="ap-south-1"), {"AWS_REGION": "x"}) == "ap-south-1"


def test_temporary_credentials_from_a_service_response() -> None:
    creds = S3Credentials.from_mapping(
        {
            "AccessKeyId": "ASIATEMP",
            "SecretAccessKey": "secret",
            "SessionToken": "session",
            "Expiration": "2030-01-01T00:00:00Z",
        }
    )
    assert creds == S3Credentials("ASIATEMP", "secret", "session", datetime(2030, 1, 1, tzinfo=UTC))
    assert "secret" not in repr(creds) and "session" not in repr(creds)


def test_signature_matches_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    botocore_auth = pytest.importorskip("botocore.auth")
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: now.replace(tzinfo=None))
    url = "https://bucket.s3.us-west-2.amazonaws.com/path/a%20b/c~d.tif?versionId=3&x-id=GetObject"
    headers = {"Range": "bytes=0-1023", "x-amz-request-payer": "requester"}
    for token in (None, "FQoGZXIvYXdzEJr"):
        secret = "wJalrXUtnFEMI/K7MDENG"
        # botocore signs the empty body's hash here; both forms are valid SigV4
        empty = hashlib.sha256(b"").hexdigest()
        creds = S3Credentials("AKIDEXAMPLE", secret, token)
        ours = sign_v4("GET", url, headers, creds, "us-west-2", now=now, payload_sha256=empty)
        request = AWSRequest(method="GET", url=url, headers=dict(headers))
        botocore_auth.S3SigV4Auth(
            Credentials("AKIDEXAMPLE", secret, token), "s3", "us-west-2"
        ).add_auth(request)
        assert ours["Authorization"] == request.headers["Authorization"]
        assert ours["x-amz-date"] == "20240506T070809Z"


def test_requests_carry_token_payer_and_signature(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.put("/bkt/key.bin", b"payload")
    options = S3Options(
        endpoint_url=fault_server.url,
        region="us-west-2",
        credentials=S3Credentials("AKIDTEMP", "secret", "session-token"),
        requester_pays=True,
    )
    result = download(
        [("s3://bkt/key.bin", "key.bin")], tmp_path, config=TransferConfig(s3=options)
    )
    assert result.ok, result.summary()
    (request,) = fault_server.requests_for("/bkt/key.bin")
    assert request.headers["x-amz-security-token"] == "session-token"
    assert request.headers["x-amz-request-payer"] == "requester"
    assert request.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    auth = request.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEMP/")
    assert "/us-west-2/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;" in auth

    anonymous = S3Options(endpoint_url=fault_server.url, anonymous=True)
    download([("s3://bkt/key.bin", "anon.bin")], tmp_path, config=TransferConfig(s3=anonymous))
    assert "authorization" not in fault_server.requests_for("/bkt/key.bin")[-1].headers


def test_credential_provider_is_asked_again_before_expiry(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.put("/bkt/a", b"a")
    fault_server.put("/bkt/b", b"b")
    calls: list[int] = []

    def provider() -> S3Credentials:
        calls.append(1)
        # expires within the refresh margin: every request needs fresh credentials
        return S3Credentials(
            f"ASIA{len(calls)}", "s", "t", datetime.now(UTC) + timedelta(minutes=1)
        )

    config = TransferConfig(
        concurrency=1, s3=S3Options(endpoint_url=fault_server.url, credentials=provider)
    )
    assert download([("s3://bkt/a", "a"), ("s3://bkt/b", "b")], tmp_path, config=config).ok
    assert len(calls) == 2
    keys = [
        r.headers["authorization"].split("Credential=")[1].split("/")[0] for r in fault_server.log
    ]
    assert keys == ["ASIA1", "ASIA2"]


@pytest.mark.s3
def test_region_redirect_is_followed_to_the_right_endpoint(
    s3_server: S3Server, bucket: str, fault_server: FaultServer, tmp_path: Path
) -> None:
    moto_host = urlsplit(s3_server.endpoint).netloc
    key = "scenes/a b/one.tif"
    fault_server.add_faults(
        f"/{bucket}/scenes/a%20b/one.tif", s3_redirect(bucket, f"{bucket}.{moto_host}", "us-west-2")
    )
    options = S3Options(endpoint_url=fault_server.url, region="us-east-1")
    pairs = [(f"s3://{bucket}/{key}", "one.tif"), (f"s3://{bucket}/scenes/two.txt", "two.txt")]
    result = download(pairs, tmp_path, config=TransferConfig(concurrency=1, s3=options))
    assert result.ok, result.summary()
    assert (tmp_path / "one.tif").read_bytes() == DATA[key]
    assert (tmp_path / "two.txt").read_bytes() == DATA["scenes/two.txt"]
    # one request met the redirect; the bucket's new location served everything after it
    assert [(r.path, r.status) for r in fault_server.log] == [
        (f"/{bucket}/scenes/a%20b/one.tif", 301)
    ]


def test_aws_region_redirect_builds_the_regional_host() -> None:
    xml = (
        "<Error><Code>PermanentRedirect</Code><Message>…</Message>"
        "<Endpoint>its-live-data.s3-us-west-2.amazonaws.com</Endpoint>"
        "<Bucket>its-live-data</Bucket></Error>"
    )
    error = ErrorResponse(301, "Moved Permanently", {"x-amz-bucket-region": "us-west-2"}, xml)
    moved = BucketLocation("us-east-1", None).redirected("its-live-data", error)
    assert moved == BucketLocation("us-west-2", None)
    assert moved.object_url("its-live-data", "datacubes/v2/x.zarr") == (
        "https://its-live-data.s3.us-west-2.amazonaws.com/datacubes/v2/x.zarr"
    )
    assert BucketLocation("us-west-2", None).object_url("a.b", "k") == (
        "https://s3.us-west-2.amazonaws.com/a.b/k"
    )
    not_redirect = ErrorResponse(403, "Forbidden", {}, "<Error><Code>AccessDenied</Code></Error>")
    assert BucketLocation("us-east-1", None).redirected("b", not_redirect) is None


def test_http_url_to_a_wrong_region_follows_the_named_endpoint(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """Seed 000: an http URL answered by S3's PermanentRedirect XML instead of the object."""
    from tests.harness.faults import start_fault_server

    real = start_fault_server()
    try:
        data = payload(50_000)
        real.put("/datacubes/v2/cube.bin", data)
        host = urlsplit(real.url).netloc
        fault_server.add_faults(
            "/datacubes/v2/cube.bin", s3_redirect("its-live-data", host, "us-west-2")
        )
        url = fault_server.url + "/datacubes/v2/cube.bin"
        result = download([(url, "cube.bin")], tmp_path)
        assert result.ok, result.summary()
        assert (
            hashlib.sha256((tmp_path / "cube.bin").read_bytes()).digest()
            == hashlib.sha256(data).digest()
        )
        assert len(real.requests_for("/datacubes/v2/cube.bin")) == 1
    finally:
        real.stop()
