"""The quickstart runs end to end (on the tiny archive here) and a re-run reuses its work."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from eoaccess.quickstart import run_quickstart


def test_quickstart_builds_ingests_serves_and_reuses(tmp_path: Path) -> None:
    out = io.StringIO()
    first = run_quickstart(tmp_path, console=Console(file=out, width=160), size="tiny")
    text = out.getvalue()
    assert [name for name, _, _ in first.steps] == ["sample archive", "ingest", "STAC API"]
    assert first.server_url is not None and first.server_url.startswith("http://127.0.0.1:")
    stac = first.steps[2][2]
    assert stac.startswith("6 collections, 21 items via pystac-client")
    for collection in (
        "ATL03",
        "itslive_datacubes",
        "kaguya_terrain_camera_monoscopic_uncontrolled_observations",
    ):
        assert collection in text
    assert (tmp_path / "archive" / ".eoaccess").is_dir()

    again = run_quickstart(tmp_path, console=Console(file=io.StringIO(), width=160), size="tiny")
    assert again.steps[0][2] == f"reused {tmp_path / 'archive'}"
    assert again.steps[1][2].endswith("(0 added, 0 updated, 0 removed)")
    assert again.steps[2][2].startswith("6 collections, 21 items")
