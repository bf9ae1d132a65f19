"""Our Harmony client against the real ``eoaccess serve`` Harmony endpoints over the tiny sample
archive (ATL03: two granules, one crossing seed 001's box within its dates), on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr

from eoaccess.cli import main
from eoaccess.errors import NotFoundError
from eoaccess.services import (
    BasicAuth,
    BearerToken,
    HarmonyService,
    JobStateError,
    ServiceAuthError,
    SubsetJobRequest,
)

SEED_BBOX = "-105.5,40,-105,41"
SEED_TIME = "2020-04-27/2020-05-28"
TOKEN = "alice-token"


@dataclass(frozen=True)
class Harmony:
    """A served copy of the tiny archive with the Harmony service."""

    url: str
    root: Path
    seed_granule: Path
    """The one ATL03 granule crossing the seed box within the seed dates."""


@pytest.fixture(scope="module")
def harmony(tiny_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harmony]:
    """The ATL03 part of the tiny archive, ingested and served with users alice and bob; jobs
    of more than one granule pause after a one-granule preview."""
    from eoaccess.harmony._model import HarmonySettings
    from eoaccess.ingest import ingest
    from eoaccess.server import ServerSettings, create_app, start_in_thread
    from eoaccess.stores import open_store

    base = tmp_path_factory.mktemp("harmony")
    root = base / "archive"
    shutil.copytree(tiny_archive / "atl03", root / "atl03")
    ingest(root)
    store = open_store(None, root)
    settings = ServerSettings(
        harmony=HarmonySettings(
            results=str(base / "results"),
            users={"alice": "alice-pw", "bob": "bob-pw"},
            tokens={TOKEN: "alice"},
            preview_threshold=1,
            workers=1,
        )
    )
    app = create_app(store, root, settings)
    seed = next(p for p in root.rglob("ATL03_20200427*.h5"))
    try:
        with start_in_thread(app) as server:
            yield Harmony(server.url.rstrip("/"), root, seed)
    finally:
        if getattr(app.state, "harmony", None) is not None:
            app.state.harmony.close()
        store.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-q", *args])
    out, err = capsys.readouterr()
    return code, out, err


class _Recorder:
    """A Progress that records what was advanced (percent of the job)."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, int | None, list[int]]] = []

    def task(self, description, total=None, *, unit="steps", transient=False):  # type: ignore[no-untyped-def]
        import contextlib

        steps: list[int] = []
        self.tasks.append((description, total, steps))

        class _T:
            def advance(self, n: int = 1) -> None:
                steps.append(n)

        return contextlib.nullcontext(_T())


def test_seed_001_from_the_command_line(
    harmony: Harmony, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "results"
    code, out, err = run(
        capsys, "subset", harmony.url + "/", "--service", "harmony", "--collections", "ATL03",
        "--bbox", SEED_BBOX, "--datetime", SEED_TIME, "--output", str(out_dir), "--token", TOKEN,
    )  # fmt: skip
    assert code == 0, err
    expected = out_dir / f"{harmony.seed_granule.stem}_subsetted.h5"
    assert out.splitlines() == [str(expected)]
    assert sorted(out_dir.iterdir()) == [expected]  # no .part left behind
    with xr.open_dataset(expected, group="gt1l/heights") as ds:
        lat, lon = ds["lat_ph"].values, ds["lon_ph"].values
    assert lat.size > 0
    assert (lat >= 40).all() and (lat <= 41).all()
    assert (lon >= -105.5).all() and (lon <= -105).all()
    with h5py.File(harmony.seed_granule) as source:
        full_lat = source["gt1l/heights/lat_ph"][:]
        full_lon = source["gt1l/heights/lon_ph"][:]
    inside = (full_lat >= 40) & (full_lat <= 41) & (full_lon >= -105.5) & (full_lon <= -105)
    assert lat.size == int(np.count_nonzero(inside))

    # Again: the file is there, so it is kept as it is, even when it differs.
    expected.write_bytes(b"mine")
    code, out, err = run(
        capsys, "subset", "--service", harmony.url, "--collections", "ATL03",
        "--bbox", SEED_BBOX, "--datetime", SEED_TIME, "--output", str(out_dir), "--token", TOKEN,
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == [f"{expected} (kept: already present; --overwrite replaces it)"]
    assert expected.read_bytes() == b"mine"

    # --overwrite replaces it with the result.
    code, out, err = run(
        capsys, "subset", "--service", harmony.url, "--collections", "ATL03", "--overwrite",
        "--bbox", SEED_BBOX, "--datetime", SEED_TIME, "--output", str(out_dir), "--token", TOKEN,
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == [str(expected)]
    with xr.open_dataset(expected, group="gt1l/heights") as ds:
        assert ds["lat_ph"].size == lat.size


def test_python_api_submit_wait_download(harmony: Harmony, tmp_path: Path) -> None:
    with HarmonyService(harmony.url, auth=BasicAuth("alice", "alice-pw")) as service:
        caps = service.capabilities(short_name="ATL03")
        assert (caps["shortName"], caps["capabilitiesVersion"], caps["bboxSubset"]) == (
            "ATL03",
            "2",
            True,
        )
        job = service.submit(
            collection="ATL03", bbox=SEED_BBOX, datetime=SEED_TIME, labels="api-test"
        )
        assert job.num_input_granules == 1
        progress = _Recorder()
        done = service.wait(job.id, progress=progress)
        assert (done.status, done.progress) == ("successful", 100)
        assert progress.tasks[0][:2] == (f"Job {job.id}", 100)
        assert sum(progress.tasks[0][2]) == 100
        (link,) = service.result_links(job.id)
        assert link.href.startswith(harmony.url + "/")
        assert link.bbox is not None and len(link.bbox) == 4
        result = service.download_results(job.id, tmp_path)
        assert result.ok and len(result.downloaded) == 1
        path = result.downloaded[0].path
        assert path.name == f"{harmony.seed_granule.stem}_subsetted.h5"
        assert result.downloaded[0].bytes == path.stat().st_size > 0
        assert [j.id for j in service.jobs(label="api-test")] == [job.id]
        # Each submit() is one job (its own Idempotency-Key), even for the same request.
        again = service.submit(
            collection="ATL03", bbox=SEED_BBOX, datetime=SEED_TIME, labels="api-test"
        )
        assert again.id != job.id
        assert {j.id for j in service.jobs(label="api-test")} == {job.id, again.id}
        assert service.wait(again.id).status == "successful"


def test_preview_pause_resume_cancel(
    harmony: Harmony, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Two granules over the preview threshold of one: the job pauses after its preview.
    code, out, err = run(
        capsys, "subset", harmony.url, "--service", "harmony", "--collections", "ATL03",
        "--bbox", SEED_BBOX, "--output", str(tmp_path / "a"), "--token", TOKEN,
    )  # fmt: skip
    assert code == 1 and out == ""
    assert "is paused" in err and f"eoaccess jobs {harmony.url} resume" in err
    job_id = err.split("error: job ", 1)[1].split(" ", 1)[0]
    assert err.count("\n") == 1

    code, out, err = run(capsys, "jobs", harmony.url, "status", job_id, "--token", TOKEN)
    assert code == 0, err
    assert f"job       {job_id}" in out.splitlines()
    assert "status    paused (50%)" in out.splitlines()

    code, out, err = run(capsys, "jobs", harmony.url, "resume", job_id, "--token", TOKEN)
    assert code == 0, err
    assert out.startswith(f"{job_id}  ")
    with HarmonyService(harmony.url, auth=BearerToken(TOKEN)) as service:
        assert service.wait(job_id).status == "successful"
        assert len(service.result_links(job_id)) == 2
        with pytest.raises(JobStateError, match="HTTP 409"):
            service.pause(job_id)

    # Refused pause from the command line: one line, non-zero exit.
    code, out, err = run(capsys, "jobs", harmony.url, "pause", job_id, "--token", TOKEN)
    assert (code, out) == (1, "")
    assert err.startswith(f"eoaccess: error: pause job {job_id} failed with HTTP 409")

    # A second such job, canceled while paused.
    code, out, _ = run(
        capsys, "subset", "--service", harmony.url, "--collections", "ATL03", "--bbox", SEED_BBOX,
        "--no-wait", "--token", TOKEN, "--label", "to-cancel",
    )  # fmt: skip
    assert code == 0
    second = out.strip()
    with HarmonyService(harmony.url, auth=BearerToken(TOKEN)) as service:
        assert service.wait(second).status == "paused"
    code, out, _ = run(capsys, "jobs", harmony.url, "cancel", second, "--token", TOKEN)
    assert code == 0 and out.startswith(f"{second}  canceled")

    code, out, _ = run(
        capsys, "jobs", harmony.url, "list", "--label", "to-cancel", "--token", TOKEN
    )
    lines = out.splitlines()
    assert lines[0].split() == ["JOB", "ID", "STATUS", "PROGRESS", "GRANULES", "CREATED", "LABELS"]
    assert [line.split()[:2] for line in lines[1:]] == [[second, "canceled"]]


def test_skip_preview_downloads_both_granules(
    harmony: Harmony, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, "subset", harmony.url, "--service", "harmony", "--collections", "ATL03",
        "--bbox", SEED_BBOX, "--skip-preview", "--output", str(tmp_path), "--token", TOKEN,
    )  # fmt: skip
    assert code == 0, err
    names = sorted(Path(line).name for line in out.splitlines())
    expected = sorted(f"{p.stem}_subsetted.h5" for p in harmony.root.rglob("*.h5"))
    assert names == expected and len(names) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "wrong"], "failed with HTTP 401"),
        (["--user", "alice:nope"], "failed with HTTP 401"),
    ],
)
def test_bad_credentials_are_one_line(
    harmony: Harmony,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    code, out, err = run(
        capsys, "subset", harmony.url, "--service", "harmony", "--collections", "ATL03",
        "--output", str(tmp_path / "x"), *args,
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert message in err and err.count("\n") == 1
    assert "wrong" not in err and "nope" not in err
    assert not (tmp_path / "x").exists()


def test_errors_map_to_project_errors(
    harmony: Harmony, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("EOACCESS_TOKEN", "EDL_USERNAME", "EDL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent")
    with HarmonyService(harmony.url) as anonymous, pytest.raises(ServiceAuthError):
        anonymous.jobs()
    code, _, err = run(capsys, "jobs", harmony.url, "list")
    assert code == 1 and "HTTP 401" in err

    with HarmonyService(harmony.url, auth=BearerToken(TOKEN)) as alice:
        job = alice.submit(SubsetJobRequest("ATL03", bbox=(-105.5, 40, -105, 41)))
        with pytest.raises(NotFoundError, match="HTTP 404"):
            alice.submit(SubsetJobRequest("NO_SUCH_COLLECTION"))
    # Another user's job does not exist for bob.
    with HarmonyService(harmony.url, auth=BasicAuth("bob", "bob-pw")) as bob:
        with pytest.raises(NotFoundError):
            bob.job(job.id)
        assert bob.statuses([job.id]) == {}
