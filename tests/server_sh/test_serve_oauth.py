"""``eoaccess serve --oauth-client`` / ``--oauth-clients-file`` / ``EOACCESS_OAUTH_CLIENTS``.

The parsing is checked directly; the served clients with the real sentinelhub-py against an
``eoaccess serve`` process: a wrong secret is a clear 401, the right one (from a file or the
variable) works, and the same server without clients stays open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eoaccess.cli import main
from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.server.sentinelhub.clients import oauth_clients
from tests.harness.ports import free_port
from tests.stats.archives import ArpsArchive

# --- parsing ---------------------------------------------------------------------------------


def test_pairs_files_and_secrets_with_colons(tmp_path: Path) -> None:
    listed = tmp_path / "clients"
    listed.write_text("# local clients\n\nnotebook:pa:ss\n  cron:xyz  \n")
    assert oauth_clients(["tester:s3cret", "cron:xyz"], [listed]) == {
        "tester": "s3cret",
        "cron": "xyz",
        "notebook": "pa:ss",
    }
    assert oauth_clients([], []) is None


@pytest.mark.parametrize("pair", ["tester", "tester:", ":s3cret", ""])
def test_a_malformed_pair_is_refused_without_echoing_it(pair: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        oauth_clients([pair])
    assert str(caught.value) == "--oauth-client: expected ID:SECRET with a non-empty id and secret"


def test_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    listed = tmp_path / "clients"
    listed.write_text("tester:s3cret\nno-secret-here\n")
    with pytest.raises(InvalidInputError) as caught:
        oauth_clients([], [listed])
    assert str(caught.value) == (
        f"{listed} line 2: expected ID:SECRET with a non-empty id and secret"
    )
    with pytest.raises(NotFoundError) as missing:
        oauth_clients([], [tmp_path / "absent"])
    assert str(missing.value) == f"OAuth clients file {tmp_path / 'absent'} does not exist"


def test_one_id_with_two_secrets_is_an_error() -> None:
    with pytest.raises(InvalidInputError) as caught:
        oauth_clients(["tester:one", "tester:two"])
    assert str(caught.value) == "OAuth client 'tester' is given with two different secrets"


def test_cli_reports_a_bad_client_in_one_line(
    arps_tiny: ArpsArchive, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", str(arps_tiny.root), "--port", "0", "--oauth-client", "tester"])
    assert code == 2
    assert capsys.readouterr().err == (
        "eoaccess: error: --oauth-client: expected ID:SECRET with a non-empty id and secret\n"
    )


# --- served, with sentinelhub-py ---------------------------------------------------------------


def _serve(root: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``eoaccess serve ROOT ARGS`` until the test is done; yields its base URL."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EOACCESS_OAUTH")}
    process = subprocess.Popen(
        [sys.executable, "-m", "eoaccess", "serve", str(root), "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environment, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.fixture(scope="module")
def guarded(arps_tiny: ArpsArchive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Clients from a file (``tester``) and from the variable (``cron``), none on the command line."""
    listed = tmp_path_factory.mktemp("oauth") / "clients"
    listed.write_text("tester:s3cret\n")
    env = {"EOACCESS_OAUTH_CLIENTS": "cron:t0ken", "EOACCESS_OAUTH_CLIENTS_FILE": str(listed)}
    yield from _serve(arps_tiny.root, env=env)


def _catalog_ids(base: str, arps: ArpsArchive, client_id: str, secret: str) -> list[str]:
    from sentinelhub import DataCollection, SentinelHubCatalog, SHConfig

    config = SHConfig(sh_base_url=base, sh_token_url=f"{base}/oauth/token",
                      sh_client_id=client_id, sh_client_secret=secret)  # fmt: skip
    collection = DataCollection.define_byoc(arps.collection_id)
    found = SentinelHubCatalog(config=config).search(
        collection, time=("2023-11-01T00:00:00Z", "2023-12-01T00:00:00Z")
    )
    return sorted(item["id"] for item in found)


def _tile_ids(arps: ArpsArchive) -> list[str]:
    return sorted(tile["id"] for tile in arps.tiles)


def test_sentinelhub_py_with_a_wrong_secret_gets_a_clear_401(
    guarded: str, arps_tiny: ArpsArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oauthlib.oauth2.rfc6749.errors import InvalidClientError

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with pytest.raises(InvalidClientError) as caught:
        _catalog_ids(guarded, arps_tiny, "tester", "wrong")
    assert caught.value.status_code == 401
    assert caught.value.description == "unknown client id or wrong secret"


def test_sentinelhub_py_with_the_right_secrets_works(
    guarded: str, arps_tiny: ArpsArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    assert _catalog_ids(guarded, arps_tiny, "tester", "s3cret") == _tile_ids(arps_tiny)
    assert _catalog_ids(guarded, arps_tiny, "cron", "t0ken") == _tile_ids(arps_tiny)
    # and without a token, the API itself refuses
    reply = httpx.get(f"{guarded}/api/v1/byoc/collections")
    assert reply.status_code == 401


def test_without_clients_the_server_stays_open(arps_tiny: ArpsArchive) -> None:
    for base in _serve(arps_tiny.root):
        reply = httpx.get(f"{base}/api/v1/byoc/collections")
        assert reply.status_code == 200
        assert [c["id"] for c in reply.json()["data"]] == [arps_tiny.collection_id]
