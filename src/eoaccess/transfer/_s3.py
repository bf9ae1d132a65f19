"""The s3 backend: signed (AWS Signature V4) or anonymous GETs over the shared HTTP client.

Requests go through the same aiohttp plumbing as http(s), so retries, stalls, Range resume and
error reporting behave identically. What is S3-specific lives here: addressing a bucket (AWS
virtual hosts or a custom endpoint, path-style), credentials (explicit, provider of temporary
ones, environment, shared profiles, else anonymous), requester-pays, and following a region
redirect (HTTP 301 ``PermanentRedirect`` with ``x-amz-bucket-region``, seed 000) by re-signing
for the bucket's real region.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import hashlib
import hmac
import inspect
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import aiohttp

from eoaccess.errors import InvalidInputError
from eoaccess.transfer._config import CredentialProvider, S3Credentials, S3Options, TransferConfig
from eoaccess.transfer._engine import RemoteMeta
from eoaccess.transfer._errors import RemoteError
from eoaccess.transfer._http import HttpBody, HttpClient, body_of, read_error
from eoaccess.transfer._httpbase import (
    MAX_REDIRECT_HOPS,
    ErrorResponse,
    range_header,
    stat_with_fallback,
)

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_REFRESH_MARGIN = timedelta(minutes=5)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    parts = urlsplit(url)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not bucket:
        raise InvalidInputError(f"{url!r} is not an s3://bucket/key URL")
    return bucket, key


# ---------------------------------------------------------------------------------------------
# Signature V4 (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def sign_v4(
    method: str,
    url: str,
    headers: Mapping[str, str],
    credentials: S3Credentials,
    region: str,
    *,
    now: datetime,
    service: str = "s3",
    payload_sha256: str = UNSIGNED_PAYLOAD,
) -> dict[str, str]:
    """The headers that sign a request (``Authorization``, ``x-amz-date``…) with SigV4.

    ``url`` must already be percent-encoded as it will be sent; every header in ``headers`` is
    signed, together with ``host`` and the ``x-amz-*`` headers added here.
    """
    parts = urlsplit(url)
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    added = {"x-amz-date": amz_date, "x-amz-content-sha256": payload_sha256}
    if credentials.session_token:
        added["x-amz-security-token"] = credentials.session_token
    signed = {k.lower(): " ".join(str(v).split()) for k, v in {**headers, **added}.items()}
    signed["host"] = parts.netloc.lower()
    names = sorted(signed)
    query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}"
        for k, v in sorted(parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            method.upper(),
            parts.path or "/",
            query,
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256_hex(canonical.encode())])
    key = _hmac(("AWS4" + credentials.secret_access_key).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return added


# ---------------------------------------------------------------------------------------------
# Credentials, region and endpoint from options, environment and shared files


def _shared_files(environ: Mapping[str, str]) -> tuple[Path, Path]:
    home = Path(environ.get("HOME", str(Path.home())))
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    config = environ.get("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    return Path(credentials).expanduser(), Path(config).expanduser()


def read_profile(name: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Settings of profile ``name`` from the shared credentials and config files (merged)."""
    credentials_file, config_file = _shared_files(environ)
    merged: dict[str, str] = {}
    for path, section in (
        (config_file, "default" if name == "default" else f"profile {name}"),
        (credentials_file, name),
    ):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except configparser.Error as exc:
            raise InvalidInputError(f"cannot parse {path}: {exc}") from None
        if parser.has_section(section):
            merged.update(parser.items(section))
    return merged


def resolve_credentials(
    options: S3Options, environ: Mapping[str, str] = os.environ
) -> S3Credentials | CredentialProvider | None:
    """Explicit credentials, else a named profile, else environment keys, else the
    ``AWS_PROFILE``/default profile, else None (anonymous requests)."""
    if options.anonymous:
        return None
    if options.credentials is not None:
        return options.credentials
    if options.profile:
        found = read_profile(options.profile, environ)
        creds = _from_profile(found)
        if creds is None:
            raise InvalidInputError(
                f"AWS profile {options.profile!r} has no aws_access_key_id/aws_secret_access_key "
                "in the shared credentials or config file"
            )
        return creds
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return S3Credentials(key, secret, environ.get("AWS_SESSION_TOKEN") or None)
    return _from_profile(read_profile(environ.get("AWS_PROFILE", "default"), environ))


def _from_profile(found: Mapping[str, str]) -> S3Credentials | None:
    key, secret = found.get("aws_access_key_id"), found.get("aws_secret_access_key")
    if not (key and secret):
        return None
    return S3Credentials(key, secret, found.get("aws_session_token") or None)


def resolve_region(options: S3Options, environ: Mapping[str, str] = os.environ) -> str:
    """The configured region, else ``AWS_REGION``/``AWS_DEFAULT_REGION``, the profile's, us-east-1."""
    if options.region:
        return options.region
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(name):
            return environ[name]
    profile = options.profile or environ.get("AWS_PROFILE", "default")
    return read_profile(profile, environ).get("region") or "us-east-1"


def resolve_endpoint(options: S3Options, environ: Mapping[str, str] = os.environ) -> str | None:
    """A custom endpoint URL from options or ``AWS_ENDPOINT_URL_S3``/``AWS_ENDPOINT_URL``."""
    endpoint = (
        options.endpoint_url
        or environ.get("AWS_ENDPOINT_URL_S3")
        or environ.get("AWS_ENDPOINT_URL")
    )
    return endpoint.rstrip("/") if endpoint else None


@dataclass(frozen=True)
class BucketLocation:
    """Where one bucket is reached and which region signs for it."""

    region: str
    """The region that signs requests."""
    endpoint: str | None
    """A custom endpoint (``scheme://host[:port]``), or None for AWS's own hosts."""
    path_style: bool = False
    """Address AWS as ``s3.<region>.amazonaws.com/<bucket>`` (buckets with dots need it)."""

    def object_url(self, bucket: str, key: str) -> str:
        """The percent-encoded HTTP URL of ``key`` in ``bucket``."""
        path = quote(key, safe="/-_.~")
        if self.endpoint:
            return f"{self.endpoint}/{bucket}/{path}"
        if self.path_style or "." in bucket:
            return f"https://s3.{self.region}.amazonaws.com/{bucket}/{path}"
        return f"https://{bucket}.s3.{self.region}.amazonaws.com/{path}"

    def redirected(self, bucket: str, error: ErrorResponse) -> BucketLocation | None:
        """The location an S3 region redirect names, or None if ``error`` is not one."""
        fields = error.s3_fields()
        region = error.headers.get("x-amz-bucket-region") or fields.get("Region")
        endpoint_host = fields.get("Endpoint")
        is_redirect = error.status in (301, 307) or fields.get("Code") in (
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
            "IllegalLocationConstraintException",
        )
        if not is_redirect or not (region or endpoint_host):
            return None
        endpoint = self.endpoint
        if endpoint and endpoint_host:
            # A custom endpoint names the right server itself, possibly virtual-host style.
            if endpoint_host.startswith(f"{bucket}."):
                endpoint_host = endpoint_host[len(bucket) + 1 :]
            endpoint = f"{urlsplit(endpoint).scheme}://{endpoint_host}"
        new = replace(self, region=region or self.region, endpoint=endpoint)
        return None if new == self else new


def aws_https_url(url: str, options: S3Options | None = None) -> str:
    """The public HTTP(S) URL of an ``s3://`` URL (for lists that tools without S3 support read)."""
    options = options or S3Options()
    bucket, key = parse_s3_url(url)
    location = BucketLocation(
        resolve_region(options), resolve_endpoint(options), options.path_style
    )
    return location.object_url(bucket, key)


# ---------------------------------------------------------------------------------------------


class S3Backend:
    """``s3://bucket/key`` over HTTP with SigV4, region redirects followed once per bucket."""

    def __init__(self, config: TransferConfig) -> None:
        self.config = config
        self.options = config.s3
        self.client = HttpClient(config)  # no user http headers: they would break signatures
        self._source = resolve_credentials(self.options)
        self._credentials: S3Credentials | None = None
        self._credentials_lock = asyncio.Lock()
        self._default = BucketLocation(
            resolve_region(self.options), resolve_endpoint(self.options), self.options.path_style
        )
        self._locations: dict[str, BucketLocation] = {}

    def host(self, url: str) -> str:
        bucket, _ = parse_s3_url(url)
        location = self._locations.get(bucket, self._default)
        return urlsplit(location.object_url(bucket, "")).netloc

    async def credentials(self) -> S3Credentials | None:
        """Current credentials; a provider is asked again shortly before they expire."""
        source = self._source
        if source is None or isinstance(source, S3Credentials):
            return source
        async with self._credentials_lock:
            current = self._credentials
            if current is None or (
                current.expiration is not None
                and current.expiration - _REFRESH_MARGIN <= datetime.now(UTC)
            ):
                fresh = source()
                if inspect.isawaitable(fresh):
                    fresh = await fresh
                if not isinstance(fresh, S3Credentials):
                    raise InvalidInputError("an S3 credential provider must return S3Credentials")
                self._credentials = current = fresh
            return current

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str]
    ) -> tuple[str, aiohttp.ClientResponse]:
        bucket, key = parse_s3_url(url)
        for _ in range(MAX_REDIRECT_HOPS):
            location = self._locations.get(bucket, self._default)
            http_url = location.object_url(bucket, key)
            request = dict(headers)
            if self.options.requester_pays:
                request["x-amz-request-payer"] = "requester"
            credentials = await self.credentials()
            if credentials is not None:
                request.update(
                    sign_v4(
                        method,
                        http_url,
                        request,
                        credentials,
                        location.region,
                        now=datetime.now(UTC),
                    )
                )
            response = await self.client.send(method, http_url, request)
            if response.status < 300:
                return http_url, response
            error = await read_error(response)
            moved = location.redirected(bucket, error)
            if moved is None:
                raise error.to_error(url, hint=self._denied_hint(credentials))
            self._locations[bucket] = moved
        raise RemoteError(f"{url}: too many S3 region redirects")

    def _denied_hint(self, credentials: S3Credentials | None) -> str:
        if credentials is None:
            return "request was anonymous: configure credentials or a profile"
        if not self.options.requester_pays:
            return "check the credentials; a requester-pays bucket needs requester_pays=True"
        return "check the credentials and the bucket policy"

    @contextlib.asynccontextmanager
    async def open(
        self, url: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[HttpBody]:
        _, response = await self._send("GET", url, range_header(start, end))
        async with body_of(response, url, start, self.config.stall_timeout) as body:
            yield body

    async def stat(self, url: str) -> RemoteMeta:
        # A wrong-region HEAD has no body to name the region: retry as a one-byte GET.
        return await stat_with_fallback(self._send, url, frozenset({301}))

    async def aclose(self) -> None:
        await self.client.aclose()


def create_backend(config: TransferConfig) -> S3Backend:
    """Registry entry for ``s3://``."""
    return S3Backend(config)
