"""The service side of ``eoaccess subset`` and ``eoaccess jobs`` without a service: help, argument
checks, --as-url/--as-curl, an unreachable service, and credential resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from eoaccess.cli import main
from eoaccess.errors import InvalidInputError
from eoaccess.services import BasicAuth, BearerToken, resolve_credentials
from eoaccess.services._cli import ServiceTarget, service_target
from tests.harness.ports import free_port

SEED = ["--bbox", "-105.5,40,-105,41.0", "--datetime", "2020-04-27T00:00:00Z/2020-05-28T00:00:00Z"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-q", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_subset_help_explains_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "subset", "--help")
    assert code == 0
    for flag in ("--service URL|harmony", "--collections", "--as-curl", "--no-wait", "--token"):
        assert flag in out
    text = " ".join(out.split())  # help is wrapped to the terminal width
    assert "Name the service by its root URL either as SOURCE or as --service" in text


def test_jobs_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "jobs", "--help")
    assert code == 0
    assert "Usage: eoaccess jobs [OPTIONS] SERVICE {list|status|pause|resume|cancel} [ID]" in out


@pytest.mark.parametrize("form", ["source", "service-url"])
def test_as_url_prints_the_request_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], form: str
) -> None:
    root = f"http://127.0.0.1:{free_port()}"  # nothing listens
    where = [root, "--service", "harmony"] if form == "source" else ["--service", root]
    code, out, err = run(capsys, "subset", *where, "--collections", "ATL03", *SEED, "--as-url")
    assert (code, err) == (0, "")
    assert out == (
        f"{root}/ATL03/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset"
        "?forceAsync=true&subset=lat%2840%3A41.0%29&subset=lon%28-105.5%3A-105%29"
        "&subset=time%28%222020-04-27T00%3A00%3A00%22%3A%222020-05-28T00%3A00%3A00%22%29"
        "&variable=all\n"
    )


def test_as_curl_masks_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    root = f"http://127.0.0.1:{free_port()}"
    code, out, _ = run(
        capsys, "subset", "--service", root, "--collections", "ATL03", "--as-curl",
        "--token", "very-secret", "--label", "a b", "--granule-id", "G1,G2", "--max-results", "3",
    )  # fmt: skip
    assert code == 0
    assert "very-secret" not in out
    assert out == (
        "curl -X POST -H 'Authorization: *****' --form-string forceAsync=true "
        "--form-string granuleId=G1,G2 --form-string maxResults=3 --form-string variable=all "
        f"--form-string 'label=a b' {root}/ATL03/ogc-api-coverages/1.0.0/collections/"
        "parameter_vars/coverage/rangeset\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--collections", "ATL03", "--output", "x"], "--collections need(s) --service"),
        (["http://h/", "--service", "harmony", "--output", "x"], "--service needs --collections"),
        (["http://h/", "--service", "harmony", "--collections", "A"], "--service needs --output"),
        (["http://h/", "--service", "harmony", "--collections", "A,B", "--as-url"], "one collection"),
        (["--service", "harmony", "--collections", "A", "--as-url"], "needs SOURCE"),
        (["--service", "wms", "--collections", "A", "--as-url"], "dialect (harmony)"),
        (["http://a/", "--service", "http://b/", "--collections", "A", "--as-url"], "two different"),
        (["--service", "http://h/", "--collections", "A", "--intersects", "x", "--as-url"], "--intersects cannot be used with --service"),
        (["--service", "http://h/", "--collections", "A", "--bbox", "1,2,3", "--as-url"], "bbox must have 4"),
        (["x.h5"], "give HREF and --output"),
    ],
)  # fmt: skip
def test_bad_arguments_give_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "subset", *args)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_unreachable_service_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = f"http://127.0.0.1:{free_port()}/"
    code, out, err = run(
        capsys, "subset", root, "--service", "harmony", "--collections", "ATL03",
        "--output", str(tmp_path / "out"),
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith("eoaccess: error: submitting a job for ATL03: cannot reach the service")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["list", "x"], "list takes no job ID"), (["pause"], "pause needs a job ID")],
)
def test_jobs_arguments(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _, err = run(capsys, "jobs", "http://127.0.0.1:9/", *args)
    assert code == 2 and message in err


def test_service_target_forms() -> None:
    assert service_target("http://h:1/", "harmony") == ServiceTarget("http://h:1/", "harmony")
    assert service_target(None, "http://h:1/x") == ServiceTarget("http://h:1/x", "harmony")
    assert service_target("http://h:1/x", "http://h:1/x/") == ServiceTarget(
        "http://h:1/x/", "harmony"
    )
    assert service_target("http://h:1/api/", "./harmony") == ServiceTarget(
        "http://h:1/api/harmony", "harmony"
    )
    with pytest.raises(InvalidInputError, match="must be an http"):
        service_target("/some/dir", "harmony")


def test_credentials_resolution_order(tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine h login bob password fromnetrc\n")
    netrc.chmod(0o600)
    env = {"NETRC": str(netrc)}
    url = "http://h:8000/"
    assert resolve_credentials(url, token="t", user="a:b", env=env) == BearerToken("t")
    assert resolve_credentials(url, user="a:b", env=env) == BasicAuth("a", "b")
    assert resolve_credentials(url, user="bob", env=env) == BasicAuth("bob", "fromnetrc")
    assert resolve_credentials(url, env={**env, "EOACCESS_TOKEN": "e"}) == BearerToken("e")
    edl = {**env, "EDL_USERNAME": "u", "EDL_PASSWORD": "p"}
    assert resolve_credentials(url, env=edl) == BasicAuth("u", "p")
    assert resolve_credentials(url, env=env) == BasicAuth("bob", "fromnetrc")
    assert resolve_credentials("http://other/", env=env) is None
    with pytest.raises(InvalidInputError, match="no password for user 'carol'"):
        resolve_credentials(url, user="carol", env=env)


def test_secrets_are_not_in_repr() -> None:
    assert "pw" not in repr(BasicAuth("u", "pw")) and "tok" not in repr(BearerToken("tok"))
    assert BasicAuth("u", "pw").authorization() == "Basic dTpwdw=="


def test_public_names_are_what_we_export() -> None:
    import eoaccess.services as services

    assert set(services.__all__) == {
        "DEFAULT_DIALECT", "SERVICE_DIALECTS", "TERMINAL_STATUSES", "BasicAuth", "BearerToken",
        "CapabilitiesQuery", "Credentials", "DimensionRange", "HarmonyService", "Job", "JobError",
        "JobLink", "JobStateError", "ServiceAuthError", "ServiceError", "ServiceResponseError",
        "SubsetJobRequest", "open_service", "resolve_credentials",
    }  # fmt: skip
    assert all(hasattr(services, name) for name in services.__all__)
    assert dict(services.SERVICE_DIALECTS) == {"harmony": services.HarmonyService}
