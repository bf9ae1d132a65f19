"""OAuth2 client credentials: the token endpoint and Bearer checks on the Sentinel Hub routes."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from eoaccess.server.sentinelhub.oauth import TokenAuthority
from tests.server_sh.conftest import CLIENT_ID, CLIENT_SECRET, ShServer

SH_ROUTES = [
    ("GET", "/api/v1/catalog/1.0.0/collections"),
    ("POST", "/api/v1/catalog/1.0.0/search"),
    ("POST", "/api/v1/statistics"),
    ("GET", "/api/v1/byoc/collections"),
]


def token_request(server: ShServer, **form: str) -> httpx.Response:
    return httpx.post(f"{server.base}/oauth/token", data=form)


def test_client_credentials_give_a_bearer_jwt(sh_tiny: ShServer) -> None:
    reply = token_request(sh_tiny, grant_type="client_credentials", client_id=CLIENT_ID,
                          client_secret=CLIENT_SECRET)  # fmt: skip
    assert reply.status_code == 200
    assert reply.headers["cache-control"] == "no-store"
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    payload = body["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == CLIENT_ID and claims["exp"] - claims["iat"] == 3600


def test_basic_authentication_of_the_client(sh_tiny: ShServer) -> None:
    reply = httpx.post(f"{sh_tiny.base}/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(CLIENT_ID, CLIENT_SECRET))  # fmt: skip
    assert reply.status_code == 200 and reply.json()["access_token"]


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "nope"},
         401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "stranger", "client_secret": "x"},
         401, "invalid_client"),
        ({"grant_type": "password", "username": "a", "password": "b"}, 400, "unsupported_grant_type"),
    ],
)  # fmt: skip
def test_token_errors(sh_tiny: ShServer, form: dict[str, str], status: int, error: str) -> None:
    reply = token_request(sh_tiny, **form)
    assert reply.status_code == status
    assert reply.json()["error"] == error and reply.json()["description"]


def test_a_json_token_request_is_refused(sh_tiny: ShServer) -> None:
    reply = httpx.post(f"{sh_tiny.base}/oauth/token",
                       json={"grant_type": "client_credentials", "client_id": CLIENT_ID})  # fmt: skip
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_request"


@pytest.mark.parametrize(("method", "path"), SH_ROUTES)
def test_sentinel_hub_routes_need_a_valid_token(sh_tiny: ShServer, method: str, path: str) -> None:
    missing = httpx.request(method, f"{sh_tiny.base}{path}", json={})
    assert missing.status_code == 401
    assert "needs an access token" in missing.json()["description"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    forged = httpx.request(method, f"{sh_tiny.base}{path}", json={},
                           headers={"Authorization": f"Bearer {sh_tiny.token}x"})  # fmt: skip
    assert forged.status_code == 401 and "invalid or expired" in forged.json()["description"]
    # The STAC API and the files stay public.
    assert httpx.get(f"{sh_tiny.base}/collections").status_code == 200


def test_tiles_files_need_a_token_too(sh_tiny: ShServer) -> None:
    tile = sh_tiny.archive.tiles[0]
    path = (f"/api/v1/byoc/collections/{sh_tiny.archive.collection_id}/tiles/{tile['id']}"
            "/files/analysis_ready_ps_qa.tif")  # fmt: skip
    assert httpx.get(f"{sh_tiny.base}{path}").status_code == 401
    assert sh_tiny.get(path).status_code == 200


def test_expired_and_foreign_tokens_are_rejected() -> None:
    authority = TokenAuthority({"a": "b"}, lifetime=-1)
    assert authority.verify(authority.issue("a")["access_token"]) is None
    other = TokenAuthority({"a": "b"})
    assert other.verify(TokenAuthority({"a": "b"}).issue("a")["access_token"]) is None
    fresh = other.issue("a")["access_token"]
    assert other.verify(fresh)["sub"] == "a"  # type: ignore[index]
    assert other.verify("not.a.token") is None and other.verify("x") is None
    assert time.time() < other.verify(fresh)["exp"]  # type: ignore[index]


def test_open_server_needs_no_token_and_gives_one_to_anyone(sh_open: ShServer) -> None:
    assert httpx.get(f"{sh_open.base}/api/v1/byoc/collections").status_code == 200
    reply = token_request(sh_open, grant_type="client_credentials", client_id="anyone",
                          client_secret="anything")  # fmt: skip
    assert reply.status_code == 200 and reply.json()["token_type"] == "Bearer"
