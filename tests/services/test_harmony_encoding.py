"""Our Harmony request encoding against harmony-py's own, offline (no server is contacted)."""

from __future__ import annotations

import datetime as dt
import shlex

import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.services import (
    BearerToken,
    CapabilitiesQuery,
    DimensionRange,
    HarmonyService,
    SubsetJobRequest,
)

ROOT = "http://127.0.0.1:9"  # nothing listens: building a request must not connect


@pytest.fixture
def harmony_client(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """harmony-py's Client pointed at ROOT, without its default 'harmony-py' label."""
    harmony = pytest.importorskip("harmony")
    monkeypatch.setenv("ROOT_URL", ROOT)
    monkeypatch.setenv("EXCLUDE_DEFAULT_LABEL", "true")
    for name in ("EDL_USERNAME", "EDL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return harmony.Client(
        env=harmony.config.Environment.LOCAL, should_validate_auth=False, token="s3cr3t-token"
    )


def _seed_pair():  # type: ignore[no-untyped-def]
    """Seed 001's request, as harmony-py and as our request value."""
    import harmony

    theirs = harmony.Request(
        collection=harmony.Collection(id="ATL03"),
        spatial=harmony.BBox(-105.5, 40, -105, 41.0),
        temporal={"start": dt.datetime(2020, 4, 27), "stop": dt.datetime(2020, 5, 28)},
    )
    ours = SubsetJobRequest(
        "ATL03",
        bbox=(-105.5, 40, -105, 41.0),
        start=dt.datetime(2020, 4, 27),
        stop=dt.datetime(2020, 5, 28),
    )
    return theirs, ours


def _full_pair():  # type: ignore[no-untyped-def]
    """Every parameter our client sends, in both clients."""
    import harmony

    theirs = harmony.Request(
        collection=harmony.Collection(id="C1-EOA"),
        spatial=harmony.BBox(-10, -5.5, 20.25, 30),
        temporal={"start": dt.datetime(2021, 1, 1, 6, 30)},
        dimensions=[harmony.Dimension("lev", 10.0, None)],
        crs="EPSG:4326",
        format="application/x-hdf5",
        granule_id=["G1", "G2", "G3"],
        max_results=7,
        variables=["h_ph", "lat_ph"],
        skip_preview=True,
        ignore_errors=False,
        concatenate=True,
        labels=["run 1", "a&b"],
        width=100,
        height=50,
        destination_url="s3://bucket/out",
    )
    ours = SubsetJobRequest(
        "C1-EOA",
        bbox=(-10, -5.5, 20.25, 30),
        start=dt.datetime(2021, 1, 1, 6, 30),
        dimensions=(DimensionRange("lev", 10.0, None),),
        crs="EPSG:4326",
        format="application/x-hdf5",
        granule_ids=("G1", "G2", "G3"),
        max_results=7,
        variables=("h_ph", "lat_ph"),
        skip_preview=True,
        ignore_errors=False,
        concatenate=True,
        labels=("run 1", "a&b"),
        width=100,
        height=50,
        destination_url="s3://bucket/out",
    )
    return theirs, ours


@pytest.mark.parametrize("pair", [_seed_pair, _full_pair], ids=["seed001", "all-parameters"])
def test_request_as_url_equals_harmony_py(harmony_client, pair) -> None:  # type: ignore[no-untyped-def]
    theirs, ours = pair()
    expected = harmony_client.request_as_url(theirs)
    with HarmonyService(ROOT, auth=BearerToken("s3cr3t-token")) as service:
        assert service.request_as_url(ours) == expected


def test_seed_url_is_the_tutorials(harmony_client) -> None:  # type: ignore[no-untyped-def]
    _, ours = _seed_pair()
    with HarmonyService(ROOT) as service:
        url = service.request_as_url(ours)
    # seed 001, appendix B, with our root and our collection id
    assert url == (
        f"{ROOT}/ATL03/ogc-api-coverages/1.0.0/collections/parameter_vars/coverage/rangeset"
        "?forceAsync=true&subset=lat%2840%3A41.0%29&subset=lon%28-105.5%3A-105%29"
        "&subset=time%28%222020-04-27T00%3A00%3A00%22%3A%222020-05-28T00%3A00%3A00%22%29"
        "&variable=all"
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"short_name": "ATL03"}, {"collection_id": "C1-EOA"}, {"short_name": "ATL03", "version": "2"}],
)
def test_capabilities_url_equals_harmony_py(harmony_client, kwargs) -> None:  # type: ignore[no-untyped-def]
    import harmony

    names = {"version": "capabilities_version"}
    theirs = harmony.CapabilitiesRequest(**{names.get(k, k): v for k, v in kwargs.items()})
    with HarmonyService(ROOT) as service:
        assert service.request_as_url(CapabilitiesQuery(**kwargs)) == (
            harmony_client.request_as_url(theirs)
        )


def _multipart_fields(body: str) -> list[tuple[str, str]]:
    """(name, value) of each part of a multipart/form-data body, in order."""
    boundary = body.split("\r\n", 1)[0]
    fields = []
    for part in body.split(boundary)[1:-1]:
        head, _, value = part.strip("\r\n").partition("\r\n\r\n")
        name = head.split('name="', 1)[1].split('"', 1)[0]
        fields.append((name, value))
    return fields


@pytest.mark.parametrize("pair", [_seed_pair, _full_pair], ids=["seed001", "all-parameters"])
def test_request_as_curl_sends_harmony_py_form(harmony_client, pair) -> None:  # type: ignore[no-untyped-def]
    theirs, ours = pair()
    their_args = shlex.split(harmony_client.request_as_curl(theirs))
    their_form = _multipart_fields(their_args[their_args.index("-d") + 1])
    with HarmonyService(ROOT, auth=BearerToken("s3cr3t-token")) as service:
        curl = service.request_as_curl(ours)
    args = shlex.split(curl)
    ours_form = [
        tuple(args[i + 1].split("=", 1)) for i, a in enumerate(args) if a == "--form-string"
    ]
    assert ours_form == their_form
    assert args[:3] == ["curl", "-X", "POST"]
    assert args[-1] == their_args[-1]  # same endpoint
    assert args[3:5] == ["-H", "Authorization: *****"]
    assert "s3cr3t" not in curl


def test_capabilities_curl_masks_basic_credentials() -> None:
    from eoaccess.services import BasicAuth

    with HarmonyService(ROOT, auth=BasicAuth("alice", "pa55word")) as service:
        curl = service.request_as_curl(CapabilitiesQuery(short_name="ATL03"))
    assert curl == f"curl -X GET -H 'Authorization: *****' '{ROOT}/capabilities?shortname=ATL03'"
    assert "pa55word" not in curl and "YWxpY2" not in curl  # nor its base64 form


def test_loose_inputs_convert_once() -> None:
    request = SubsetJobRequest.of(
        "ATL03",
        bbox="-105.5,40,-105,41.0",
        datetime="2020-04-27T00:00:00Z/2020-05-28T00:00:00Z",
        variables="h_ph, lat_ph",
        granule_ids=["A", "B"],
        labels="x",
    )
    assert request.bbox == (-105.5, 40, -105, 41.0)
    assert request.start == dt.datetime(2020, 4, 27, tzinfo=dt.UTC)
    assert request.variables == ("h_ph", "lat_ph")
    assert request.granule_ids == ("A", "B")
    assert request.labels == ("x",)
    with HarmonyService(ROOT) as service:
        url = service.request_as_url(request)
    # aware UTC times are sent naive, as harmony-py's users send them
    assert "time%28%222020-04-27T00%3A00%3A00%22%3A%222020-05-28T00%3A00%3A00%22%29" in url


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bbox": "1,2,3"}, "bbox must have 4"),
        ({"bbox": "0,50,1,40"}, "south 50 is greater than north 40"),
        ({"datetime": "2021-01-01/2020-01-01"}, "datetime"),
        ({"max_results": 0}, "max_results must be >= 1"),
        ({"destination_url": "https://x/y"}, "s3://"),
    ],
)
def test_bad_requests_are_refused(kwargs, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=message):
        SubsetJobRequest.of("ATL03", **kwargs)


@pytest.mark.parametrize("collection", ["", "a/b"])
def test_bad_collection_is_refused(collection: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid collection"):
        SubsetJobRequest(collection)


def test_service_url_must_be_http() -> None:
    with pytest.raises(InvalidInputError, match="service URL must be"):
        HarmonyService("ftp://example/")
