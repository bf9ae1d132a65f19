"""The sample archive as a whole: selection, parallel = serial, atomic replacement, progress."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.sample import PRODUCTS, generate_sample


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class RecordingProgress:
    """Records every task opened and the steps it advanced."""

    def __init__(self) -> None:
        self.tasks: dict[str, int] = {}

    @contextlib.contextmanager
    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: str = "steps",
        transient: bool = False,
    ) -> Iterator[object]:
        self.tasks[description] = 0
        outer = self

        class _Task:
            def advance(self, steps: int = 1) -> None:
                outer.tasks[description] += steps

        yield _Task()


def test_parallel_and_serial_runs_write_identical_files(tmp_path: Path) -> None:
    progress = RecordingProgress()
    parallel = generate_sample(
        tmp_path / "p", "tiny", products="kaguya,arps", workers=2, progress=progress
    )
    serial = generate_sample(tmp_path / "s", "tiny", products=["arps", "kaguya"], workers=1)
    assert [p.product for p in parallel.products] == ["kaguya", "arps"]
    assert [p.product for p in serial.products] == ["arps", "kaguya"]
    for name in ("kaguya", "arps"):
        assert digest_tree(tmp_path / "p" / name) == digest_tree(tmp_path / "s" / name)
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "arps",
        "kaguya",
    ]  # no temporaries left
    # Progress from the worker processes reached the parent's progress object.
    assert progress.tasks, "no progress was relayed from the workers"
    assert any(steps > 0 for steps in progress.tasks.values())
    assert parallel.files == sum(len(digest_tree(tmp_path / "p" / n)) for n in ("kaguya", "arps"))


def test_regenerating_replaces_a_product_and_keeps_other_content(tmp_path: Path) -> None:
    generate_sample(tmp_path, "tiny", products="arps", seed=1)
    first = digest_tree(tmp_path / "arps")
    (tmp_path / "arps" / "stray.txt").write_text("left over")
    (tmp_path / "notes.txt").write_text("mine")
    generate_sample(tmp_path, "tiny", products="arps", seed=2)
    second = digest_tree(tmp_path / "arps")
    assert "stray.txt" not in second and second != first
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arps", "notes.txt"]


def test_a_failing_product_leaves_no_partial_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import eoaccess.sample.arps as arps

    def broken(root: Path, *args: object) -> object:
        (root / "half-written.tif").write_bytes(b"II*\0")
        raise OSError("disk full")

    monkeypatch.setattr(arps, "generate", broken)
    with pytest.raises(OSError, match="disk full"):
        generate_sample(tmp_path, "tiny", products="kaguya,arps", workers=1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"products": "arps,landsat"}, "unknown product 'landsat'"),
        ({"products": ""}, "no product given"),
        ({"size": "huge"}, "unknown size 'huge'"),
        ({"seed": -1}, "non-negative"),
        ({"workers": 0}, "positive integer"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        generate_sample(tmp_path / "x", **{"size": "tiny", **kwargs})  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_every_product_is_registered() -> None:
    assert PRODUCTS == ("itslive", "kaguya", "atl03", "arps")


def test_atomic_files_get_ordinary_permissions(tmp_path: Path) -> None:
    import os

    from eoaccess._atomic import write_text_atomic

    target = tmp_path / "out.txt"
    write_text_atomic(target, "x")
    old = os.umask(0o022)
    os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o666 & ~old
