"""The CLI contract: --help/--version, and one clear line on stderr with a non-zero exit on errors."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import eoaccess


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eoaccess", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_public_api_is_what_we_export() -> None:
    assert set(eoaccess.__all__) == {
        "EOAccessError",
        "InvalidInputError",
        "NotFoundError",
        "OutputError",
        "__version__",
        "download",
        "footprint",
        "generate_sample",
        "ingest",
        "make_query",
        "map_items",
        "open_catalog",
        "open_dataset",
        "open_store",
        "read_header",
        "read_range",
        "search_many",
        "stats",
        "subset",
        "timeseries",
    }
    for name in eoaccess.__all__:
        assert hasattr(eoaccess, name)
    # Importing the modules of the same names must not shadow the functions of the contract.
    for name in ("stats", "subset", "timeseries"):
        importlib.import_module(f"eoaccess.{name}")
        assert callable(getattr(eoaccess, name)), name
    for error in (eoaccess.InvalidInputError, eoaccess.NotFoundError, eoaccess.OutputError):
        assert issubclass(error, eoaccess.EOAccessError)
        assert error.__doc__


def test_version_and_help() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"eoaccess, version {eoaccess.__version__}"
    done = run_cli("--help")
    assert done.returncode == 0
    for command in ("sample", "quickstart"):
        assert command in done.stdout
    done = run_cli("sample", "--help")
    assert done.returncode == 0 and "--size" in done.stdout and "--products" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample", "{tmp}/a", "--products", "itslive,modis"], "unknown product 'modis'"),
        (["sample", "{tmp}/a", "--size", "huge"], "Invalid value for '--size'"),
        (["sample", "{tmp}/a", "--seed", "-3"], "Invalid value for '--seed'"),
        (["sample", "{tmp}/file/a", "--size", "tiny"], "cannot create directory"),
        (["sample", "{tmp}/file", "--size", "tiny"], "is not a directory"),
        (["sample"], "Missing argument 'DEST'"),
        (["nonsense"], "No such command 'nonsense'"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "file").write_text("not a directory")
    done = run_cli(*[a.format(tmp=tmp_path) for a in args])
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    done = run_cli("--debug", "sample", str(tmp_path / "file"), "--size", "tiny")
    assert done.returncode != 0
    assert "Traceback" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("eoaccess: error:")
