"""The ingest run: list, recognise, compare fingerprints, build what changed, write once.

Everything a run changes is written inside one store transaction (collections, item upserts,
deletions), so a crash or a kill leaves the catalog as it was before the run. Items whose
fingerprint matches the catalog are not opened at all; changed items reuse the stored checksums
of their unchanged files.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eoaccess._progress import Progress
from eoaccess.errors import NotFoundError
from eoaccess.ingest._collections import CollectionInfo, Extent, build_collection
from eoaccess.ingest._registry import (
    ArchiveView,
    BuildContext,
    Candidate,
    Recogniser,
    recognisers,
)
from eoaccess.ingest._report import CollectionCounts, IngestReport, SkippedFile
from eoaccess.ingest._sources import ArchiveSource
from eoaccess.query import Fields, Query
from eoaccess.stores._base import CatalogStore

FINGERPRINT = "eoaccess:fingerprint"
"""Item property holding the ingest fingerprint (see ``CatalogStore.item_fingerprints``)."""

_MAX_DIGESTS = 16  # beyond this, one combined digest: fingerprints stay short
_BATCH = 256  # items per upsert call
_WINDOW = 64  # builds in flight


@dataclass(frozen=True)
class _Planned:
    recogniser: Recogniser
    candidate: Candidate
    fingerprint: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.candidate.collection.id, self.candidate.id)


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def file_digest(view: ArchiveView, path: str) -> str:
    """Digest of one input: a file's (path, size, mtime), or of every file under a directory."""
    if path.endswith("/"):
        digest = hashlib.sha256(f"dir:{path}".encode())
        for entry in view.under(path):
            digest.update(f"\n{entry.path}\0{entry.size}\0{entry.mtime_ns}\0{entry.etag}".encode())
        return digest.hexdigest()[:12]
    entry = view.all.get(path)
    return entry.digest if entry is not None else _short(f"missing:{path}")


def fingerprint(view: ArchiveView, recogniser: Recogniser, candidate: Candidate) -> str:
    """``name/version:d1.d2…``: one short digest per input, so per-file changes can be told."""
    digests = sorted({*(file_digest(view, f) for f in candidate.files), *candidate.content})
    body = ".".join(digests)
    if len(digests) > _MAX_DIGESTS:
        body = "*" + hashlib.sha256(body.encode()).hexdigest()[:24]
    return f"{recogniser.name}/{recogniser.version}:{body}"


def _digests_of(fp: str | None) -> set[str]:
    if not fp or ":" not in fp:
        return set()
    return set(fp.split(":", 1)[1].split("."))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _recognise(view: ArchiveView) -> tuple[list[_Planned], list[SkippedFile]]:
    planned: dict[tuple[str, str], _Planned] = {}
    skipped: list[SkippedFile] = []
    for recogniser in recognisers():
        claimed: set[str] = set()
        for claim in recogniser.recognise(view):
            claimed |= claim.paths
            skipped.extend(claim.skipped)
            for candidate in claim.candidates:
                entry = _Planned(recogniser, candidate, fingerprint(view, recogniser, candidate))
                if entry.key in planned:
                    first = planned[entry.key].candidate.files[:1]
                    skipped.append(
                        SkippedFile(
                            candidate.files[0] if candidate.files else candidate.id,
                            f"duplicate item id {candidate.id!r} in collection "
                            f"{candidate.collection.id!r} (also from {', '.join(first)})",
                        )
                    )
                    continue
                planned[entry.key] = entry
        view.claim(claimed)
    return [planned[k] for k in sorted(planned)], skipped


def _stored_items(store: CatalogStore, collection: str) -> Iterator[dict[str, Any]]:
    """Every stored item of a collection, with just what extents need."""
    query = Query(
        collections=(collection,),
        limit=1000,
        fields=Fields(
            include=(
                "id",
                "bbox",
                "properties.datetime",
                "properties.start_datetime",
                "properties.end_datetime",
            )
        ),
    )
    token: str | None = None
    while True:
        page = store.search(query, token)
        yield from page.items
        token = page.next_token
        if not token:
            return


def _reuse_checksums(
    store: CatalogStore, view: ArchiveView, plan: _Planned, old_fp: str | None
) -> dict[str, str]:
    """Checksums of the candidate's files that did not change since the stored item was built."""
    old = _digests_of(old_fp)
    same = {f for f in plan.candidate.files if not f.endswith("/") and file_digest(view, f) in old}
    if not same:
        return {}
    try:
        item = store.get_item(*plan.key)
    except NotFoundError:
        return {}
    reuse: dict[str, str] = {}
    for asset in (item.get("assets") or {}).values():
        href, checksum = asset.get("href"), asset.get("file:checksum")
        if href in same and isinstance(checksum, str):
            reuse[href] = checksum
    return reuse


def _finish(item: dict[str, Any], plan: _Planned) -> dict[str, Any]:
    """Check the built item is a usable STAC item and stamp collection and fingerprint."""
    if item.get("id") != plan.candidate.id:
        raise ValueError(f"built item id {item.get('id')!r} != {plan.candidate.id!r}")
    props = item.setdefault("properties", {})
    if not item.get("geometry") or not item.get("bbox"):
        raise ValueError("no footprint")
    if not (props.get("datetime") or (props.get("start_datetime") and props.get("end_datetime"))):
        raise ValueError("no datetime or start_datetime/end_datetime")
    props.setdefault("datetime", None)
    item["collection"] = plan.candidate.collection.id
    props[FINGERPRINT] = plan.fingerprint
    item.setdefault("links", [])
    return item


def _build(view: ArchiveView, plan: _Planned, reuse: dict[str, str]) -> tuple[Any, int]:
    context = BuildContext(view, reuse)
    primary = (plan.candidate.files or (plan.candidate.id,))[0]
    try:
        item = plan.candidate.build(context)
        context.current = primary  # what is wrong now is wrong with the item as a whole
        item = _finish(item, plan)
    except Exception as exc:  # a corrupt or unreadable file must not end the run
        where = context.current or primary
        reason = _one_line(exc)
        for local, path in context.local_names.items():
            reason = reason.replace(local, path)  # name archive paths, not temporary copies
        return SkippedFile(where.rstrip("/"), reason), context.hashed_bytes
    return item, context.hashed_bytes


def _same_collection(stored: dict[str, Any], built: dict[str, Any]) -> bool:
    return all(stored.get(k) == v for k, v in built.items() if k != "links")


@dataclass
class _Changes:
    """What a run has to do, worked out before anything is written (mutable while writing)."""

    wanted: dict[tuple[str, str], _Planned]
    stored: dict[tuple[str, str], str]
    changed: list[_Planned]
    removed: list[tuple[str, str]]
    infos: dict[str, CollectionInfo]
    existing: dict[str, dict[str, Any]]
    extents: dict[str, Extent]
    refresh: dict[str, dict[str, Any]]
    counts: dict[str, Counter[str]]
    reuse: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    @property
    def needs_writing(self) -> bool:
        return bool(self.changed or self.removed or self.refresh or self.extents)


def _plan(
    store: CatalogStore,
    view: ArchiveView,
    plans: list[_Planned],
    stored: dict[tuple[str, str], str],
) -> _Changes:
    """Compare the archive with the catalog: what to build, delete and refresh."""
    wanted = {p.key: p for p in plans}
    changed = [p for p in plans if stored.get(p.key) != p.fingerprint]
    removed = sorted(k for k in stored if k not in wanted)
    counts: dict[str, Counter[str]] = {}
    for plan in plans:
        state = "unchanged" if stored.get(plan.key) == plan.fingerprint else "pending"
        counts.setdefault(plan.key[0], Counter())[state] += 1
    for key in removed:
        counts.setdefault(key[0], Counter())["removed"] += 1
    infos: dict[str, CollectionInfo] = {}
    for plan in plans:
        infos.setdefault(plan.key[0], plan.candidate.collection)
    existing = {c["id"]: c for c in store.collections()}
    touched = {p.key[0] for p in changed} | {k[0] for k in removed}
    touched |= {cid for cid in infos if cid not in existing}  # a lost collection is rebuilt
    # Collections whose items change get their extent recomputed: start from the unchanged items.
    extents = {cid: Extent() for cid in touched}
    for cid, extent in extents.items():
        if cid not in existing:
            continue
        for item in _stored_items(store, cid):
            key = (cid, str(item.get("id")))
            if key in wanted and stored.get(key) == wanted[key].fingerprint:
                extent.add_item(item)
    # The others keep their extent; their metadata may still have changed (a new title).
    refresh = {}
    for cid, info in infos.items():
        if cid not in touched:
            built = _collection_keeping_extent(info, existing[cid])
            if not _same_collection(existing[cid], built):
                refresh[cid] = built
    changes = _Changes(wanted, stored, changed, removed, infos, existing, extents, refresh, counts)
    changes.reuse = {p.key: _reuse_checksums(store, view, p, stored.get(p.key)) for p in changed}
    return changes


def _write(
    store: CatalogStore,
    view: ArchiveView,
    changes: _Changes,
    skipped: list[SkippedFile],
    progress: Progress,
    workers: int,
) -> int:
    """Build the changed items and write every change in one transaction; return bytes hashed."""
    hashed = 0
    total = len(changes.changed)
    with (
        store.transaction() as writer,
        progress.task(f"Cataloguing {total} new or changed items", total) as task,
        concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        for cid in sorted(changes.extents):
            if cid in changes.infos and cid not in changes.existing:
                # Items need their collection first (pgstac partitions by collection).
                writer.upsert_collection(build_collection(changes.infos[cid], Extent()))
        batch: list[dict[str, Any]] = []
        failed: list[tuple[str, str]] = []
        pending: deque[tuple[_Planned, concurrent.futures.Future[tuple[Any, int]]]] = deque()

        def drain(limit: int) -> None:
            nonlocal hashed
            while len(pending) > limit:
                plan, future = pending.popleft()
                result, nbytes = future.result()
                hashed += nbytes
                task.advance()
                counter = changes.counts[plan.key[0]]
                counter["pending"] -= 1
                if isinstance(result, SkippedFile):
                    skipped.append(result)
                    if plan.key in changes.stored:  # its stale item goes
                        failed.append(plan.key)
                        counter["removed"] += 1
                    continue
                counter["updated" if plan.key in changes.stored else "added"] += 1
                changes.extents[plan.key[0]].add_item(result)
                batch.append(result)
                if len(batch) >= _BATCH:
                    writer.upsert_items(batch)
                    batch.clear()

        for plan in changes.changed:
            reuse = changes.reuse[plan.key]
            pending.append((plan, pool.submit(_build, view, plan, reuse)))
            drain(_WINDOW)
        drain(0)
        if batch:
            writer.upsert_items(batch)
        by_collection: dict[str, list[str]] = {}
        for cid, iid in [*changes.removed, *failed]:
            by_collection.setdefault(cid, []).append(iid)
        for cid, ids in sorted(by_collection.items()):
            writer.delete_items(cid, ids)
        for cid, extent in sorted(changes.extents.items()):
            if extent.count == 0:  # no item left (gone from the archive, or all unreadable)
                if cid in changes.existing or cid in changes.infos:
                    writer.delete_collection(cid)
                continue
            writer.upsert_collection(build_collection(changes.infos[cid], extent))
        for collection in changes.refresh.values():
            writer.upsert_collection(collection)
    return hashed


def run(
    source: ArchiveSource, store: CatalogStore, progress: Progress, workers: int | None = None
) -> IngestReport:
    """Bring ``store`` in line with the archive in ``source``; see the module docstring."""
    start = time.perf_counter()
    entries = {}
    with progress.task(f"Listing {source.root}") as task:
        for entry in source.list_files():
            entries[entry.path] = entry
            task.advance()
    stored = store.item_fingerprints()
    view = ArchiveView(source, entries, stored)
    with progress.task("Recognising products") as task:
        plans, skipped = _recognise(view)
        task.advance()
    changes = _plan(store, view, plans, stored)
    hashed = 0
    if changes.needs_writing:
        hashed = _write(
            store, view, changes, skipped, progress, workers or min(8, os.cpu_count() or 2)
        )
    report = tuple(
        CollectionCounts(
            cid,
            added=c["added"],
            updated=c["updated"],
            removed=c["removed"],
            unchanged=c["unchanged"],
        )
        for cid, c in sorted(changes.counts.items())
    )
    return IngestReport(
        source=source.root,
        catalog=store.uri,
        collections=report,
        skipped=tuple(sorted(skipped, key=lambda s: (s.path, s.reason))),
        files=len(entries),
        ignored=len(view.unclaimed),
        hashed_bytes=hashed,
        seconds=time.perf_counter() - start,
    )


def _collection_keeping_extent(
    info: CollectionInfo, stored: dict[str, Any] | None
) -> dict[str, Any]:
    """The collection of ``info`` with the stored extent (its items did not change)."""
    collection = build_collection(info, Extent())
    if stored is not None and "extent" in stored:
        collection["extent"] = stored["extent"]
    return collection
