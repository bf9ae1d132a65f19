"""Re-ingest: idempotent, incremental, transactional, and tolerant of corrupt files."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eoaccess.errors import NotFoundError
from eoaccess.ingest import ingest
from tests.ingest.conftest import all_items, dump, open_catalog

THUMBNAIL = "TC1S2B0_01_07495N079E3030.jpg"


def _kaguya_item_dir(archive: Path, item_id: str) -> Path:
    return next(p.parent for p in (archive / "kaguya").rglob(f"{item_id}.json"))


def _stat_tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_second_run_changes_nothing(archive_copy: Path) -> None:
    first = ingest(archive_copy)  # the default catalog: ARCHIVE/.eoaccess/
    catalog = archive_copy / ".eoaccess"
    assert catalog.is_dir() and first.added > 0
    with open_catalog(archive_copy / ".eoaccess") as store:
        before = dump(store)
    files_before = _stat_tree(catalog)
    second = ingest(archive_copy)
    assert (second.added, second.updated, second.removed) == (0, 0, 0)
    assert second.unchanged == first.added
    assert second.hashed_bytes == 0
    assert not second.changed
    with open_catalog(archive_copy / ".eoaccess") as store:
        assert dump(store) == before
    # Nothing was written: the catalog file is untouched (no transaction was even opened).
    assert {k: v for k, v in _stat_tree(catalog).items() if not k.endswith(("-wal", "-shm"))} == {
        k: v for k, v in files_before.items() if not k.endswith(("-wal", "-shm"))
    }


def test_modified_file_updates_one_item_and_rehashes_only_that_file(
    archive_copy: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    ingest(archive_copy, catalog)
    with open_catalog(catalog) as store:
        before = all_items(store)
    thumbnail = _kaguya_item_dir(archive_copy, "TC1S2B0_01_07495N079E3030") / THUMBNAIL
    thumbnail.write_bytes(thumbnail.read_bytes() + b"\0")
    report = ingest(archive_copy, catalog)
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert report.hashed_bytes == thumbnail.stat().st_size
    key = (
        "kaguya_terrain_camera_monoscopic_uncontrolled_observations",
        "TC1S2B0_01_07495N079E3030",
    )
    assert report.counts(key[0]).updated == 1
    with open_catalog(catalog) as store:
        after = all_items(store)
    new_checksum = "1220" + hashlib.sha256(thumbnail.read_bytes()).hexdigest()
    assert after[key]["assets"]["thumbnail"]["file:checksum"] == new_checksum
    assert before[key]["assets"]["thumbnail"]["file:checksum"] != new_checksum
    # The other assets of that item kept their (reused) checksums; other items are untouched.
    for name, asset in after[key]["assets"].items():
        if name != "thumbnail":
            assert asset == before[key]["assets"][name]
    assert {k: v for k, v in after.items() if k != key} == {
        k: v for k, v in before.items() if k != key
    }


def test_touched_file_is_reread_but_keeps_its_checksum(archive_copy: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    ingest(archive_copy, catalog)
    granule = sorted((archive_copy / "atl03").rglob("*.h5"))[0]
    with open_catalog(catalog) as store:
        before = store.get_item("ATL03", granule.stem)
    stat = granule.stat()
    os.utime(granule, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    report = ingest(archive_copy, catalog)
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert report.hashed_bytes == stat.st_size
    with open_catalog(catalog) as store:
        after = store.get_item("ATL03", granule.stem)
    assert after["assets"] == before["assets"]
    assert (
        after["properties"]["eoaccess:fingerprint"] != before["properties"]["eoaccess:fingerprint"]
    )


def test_deleted_files_remove_their_items_and_empty_collections(
    archive_copy: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    ingest(archive_copy, catalog)
    granules = sorted((archive_copy / "atl03").rglob("*.h5"))
    granules[0].unlink()
    report = ingest(archive_copy, catalog)
    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    assert report.counts("ATL03").removed == 1
    with open_catalog(catalog) as store:
        with pytest.raises(NotFoundError):
            store.get_item("ATL03", granules[0].stem)
        remaining = store.get_item("ATL03", granules[1].stem)
        # The collection extent shrinks to what is left.
        assert store.get_collection("ATL03")["extent"]["spatial"]["bbox"] == [remaining["bbox"]]
    shutil.rmtree(archive_copy / "atl03")
    report = ingest(archive_copy, catalog)
    assert report.removed == len(granules) - 1
    with open_catalog(catalog) as store:
        assert "ATL03" not in {c["id"] for c in store.collections()}


def test_a_new_file_is_added(archive_copy: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    granule = sorted((archive_copy / "atl03").rglob("*.h5"))[0]
    moved = tmp_path / granule.name
    shutil.move(granule, moved)
    ingest(archive_copy, catalog)
    shutil.move(moved, granule)
    report = ingest(archive_copy, catalog)
    assert (report.added, report.updated, report.removed) == (1, 0, 0)
    assert report.hashed_bytes == granule.stat().st_size


def test_corrupt_files_are_reported_not_fatal(archive_copy: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    granules = sorted((archive_copy / "atl03").rglob("*.h5"))
    original = granules[0].read_bytes()
    granules[0].write_bytes(b"this is not HDF5" * 100)
    qa = sorted((archive_copy / "arps").rglob("analysis_ready_ps_qa.tif"))[0]
    qa.write_bytes(b"II*\0garbage")
    item_json = next((archive_copy / "kaguya").rglob("TC1S2B0_01_07495N079E3030.json"))
    item_json.write_text(item_json.read_text()[:500])  # truncated
    report = ingest(archive_copy, catalog)
    reasons = {s.path: s.reason for s in report.skipped}
    rel = {p: p.relative_to(archive_copy).as_posix() for p in (granules[0], qa, item_json)}
    assert set(reasons) == set(rel.values())
    assert reasons[rel[granules[0]]].startswith("not a readable HDF5/NetCDF file")
    assert reasons[rel[qa]].startswith("not a readable GeoTIFF")
    assert str(archive_copy) not in reasons[rel[qa]]  # archive paths, not local ones
    assert reasons[rel[item_json]].startswith("invalid JSON")
    assert report.counts("ATL03").added == len(granules) - 1
    with open_catalog(catalog) as store:
        assert ("ATL03", granules[0].stem) not in all_items(store)
    # A repaired file is picked up; a file that becomes corrupt loses its stale item.
    granules[0].write_bytes(original)
    granules[1].write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    report = ingest(archive_copy, catalog)
    assert (report.added, report.updated, report.removed) == (1, 0, 1)
    assert rel[granules[0]] not in {s.path for s in report.skipped}
    assert granules[1].relative_to(archive_copy).as_posix() in {s.path for s in report.skipped}
    with open_catalog(catalog) as store:
        assert store.get_item("ATL03", granules[0].stem)["id"] == granules[0].stem
        with pytest.raises(NotFoundError):
            store.get_item("ATL03", granules[1].stem)


def test_kill_during_ingest_leaves_the_previous_catalog(archive_copy: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    ingest(archive_copy, catalog)
    with open_catalog(catalog) as store:
        before = dump(store)
    for thumbnail in list((archive_copy / "kaguya").rglob("*.jpg"))[:3]:
        thumbnail.write_bytes(thumbnail.read_bytes() + b"\0")
    (sorted((archive_copy / "atl03").rglob("*.h5"))[0]).unlink()
    # The child writes the changed items into the transaction, then dies by SIGKILL before
    # the commit: a real crash, not an exception the code could clean up after.
    script = textwrap.dedent(
        """
        import os, signal, sys
        from eoaccess._progress import NullProgress
        from eoaccess.ingest._engine import run
        from eoaccess.ingest._sources import open_source
        from eoaccess.stores import open_store

        class Dying:
            def __init__(self, writer):
                self.writer = writer
            def __getattr__(self, name):
                return getattr(self.writer, name)
            def upsert_items(self, items):
                self.writer.upsert_items(items)
                print("written", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

        class Store:
            def __init__(self, store):
                self.store = store
            def __getattr__(self, name):
                return getattr(self.store, name)
            def transaction(self):
                import contextlib
                @contextlib.contextmanager
                def block():
                    with self.store.transaction() as writer:
                        yield Dying(writer)
                return block()

        run(open_source(sys.argv[1]), Store(open_store(sys.argv[2])), NullProgress())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(archive_copy), str(catalog)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    assert done.stdout.strip() == "written"
    with open_catalog(catalog) as store:
        assert dump(store) == before
    report = ingest(archive_copy, catalog)
    assert (report.updated, report.removed) == (3, 1)


def test_a_renamed_collection_json_title_refreshes_the_collection(
    archive_copy: Path, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog"
    ingest(archive_copy, catalog)
    path = archive_copy / "arps" / "collection.json"
    byoc = json.loads(path.read_text())
    byoc["name"] = "ARPS over the Bay"
    path.write_text(json.dumps(byoc))
    report = ingest(archive_copy, catalog)
    assert not report.changed  # no item changed...
    with open_catalog(catalog) as store:
        assert store.get_collection(byoc["id"])["title"] == "ARPS over the Bay"  # ...but this did
