"""Durable job state: jobs and their granules in SQLite next to the catalog, or in PostgreSQL.

The same SQL serves both backends; a :class:`Dialect` says how to connect, which placeholder to
use and where the tables live (``ARCHIVE/.eoaccess/harmony.sqlite`` for the embedded catalog,
schema ``eoaccess_harmony`` in the pgstac database). One connection guarded by a lock is plenty:
the service writes a few rows per granule. Timestamps are stored as fixed-width ISO text, so
text order is time order in both databases.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eoaccess.errors import InvalidInputError
from eoaccess.harmony._model import (
    ACTIVE,
    GRANULE_CANCELED,
    GRANULE_RUNNING,
    QUEUED,
    TERMINAL,
    GranuleRecord,
    HarmonyUnavailable,
    JobRecord,
)
from eoaccess.stores import CatalogStore

PG_SCHEMA = "eoaccess_harmony"
SQLITE_FILENAME = "harmony.sqlite"

_TABLES = (
    """CREATE TABLE IF NOT EXISTS {p}jobs (
        job_id TEXT PRIMARY KEY, owner TEXT NOT NULL, collection TEXT NOT NULL,
        status TEXT NOT NULL, message TEXT NOT NULL, progress INTEGER NOT NULL,
        created TEXT NOT NULL, updated TEXT NOT NULL, expires TEXT NOT NULL,
        num_granules INTEGER NOT NULL, preview_count INTEGER NOT NULL, labels TEXT NOT NULL,
        request TEXT NOT NULL, fingerprint TEXT NOT NULL, idempotency_key TEXT)""",
    "CREATE INDEX IF NOT EXISTS jobs_owner_created ON {p}jobs (owner, created)",
    """CREATE TABLE IF NOT EXISTS {p}granules (
        job_id TEXT NOT NULL, idx INTEGER NOT NULL, item_id TEXT NOT NULL, href TEXT NOT NULL,
        status TEXT NOT NULL, output TEXT, error TEXT, PRIMARY KEY (job_id, idx))""",
    # Jobs whose outputs were deleted at expiry (a table of its own: state files written by
    # earlier versions gain it without a migration).
    "CREATE TABLE IF NOT EXISTS {p}purged (job_id TEXT PRIMARY KEY, purged TEXT NOT NULL)",
)
_JOB_COLUMNS = (
    "job_id, owner, collection, status, message, progress, created, updated, expires, "
    "num_granules, preview_count, labels, request, fingerprint, idempotency_key"
)


def stamp(moment: dt.datetime) -> str:
    """A UTC instant as fixed-width ISO text (microseconds, Z): text order is time order."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _moment(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _job(row: tuple[Any, ...]) -> JobRecord:
    return JobRecord(
        job_id=row[0],
        owner=row[1],
        collection=row[2],
        status=row[3],
        message=row[4],
        progress=int(row[5]),
        created=_moment(row[6]),
        updated=_moment(row[7]),
        expires=_moment(row[8]),
        num_granules=int(row[9]),
        preview_count=int(row[10]),
        labels=tuple(json.loads(row[11])),
        request=json.loads(row[12]),
        fingerprint=row[13],
        idempotency_key=row[14],
    )


def _granule(row: tuple[Any, ...]) -> GranuleRecord:
    return GranuleRecord(
        job_id=row[0],
        index=int(row[1]),
        item_id=row[2],
        href=row[3],
        status=row[4],
        output=json.loads(row[5]) if row[5] else None,
        error=row[6],
    )


@dataclass(frozen=True)
class Dialect:
    """How one database backend is reached and spoken to."""

    location: str
    """Where the state lives (no credentials), for messages."""
    prefix: str
    """Prepended to table names (a schema)."""
    placeholder: str
    connect: Callable[[], Any]
    setup: tuple[str, ...] = ()
    """Statements run once before the tables are created."""


class JobState:
    """Jobs and granule states in one SQL database; safe to share between threads."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.location = dialect.location
        self._lock = threading.RLock()
        self._conn = dialect.connect()
        with self._transaction() as cur:
            for statement in dialect.setup:
                cur.execute(statement)
            for statement in _TABLES:
                cur.execute(statement.format(p=dialect.prefix))

    def _sql(self, text: str) -> str:
        return text.format(p=self.dialect.prefix).replace("?", self.dialect.placeholder)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _query(self, text: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute(self._sql(text), tuple(args))
            return [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    # --- jobs -----------------------------------------------------------------------------

    def create(self, job: JobRecord, granules: Iterable[GranuleRecord]) -> None:
        """Persist a new job and its granules in one transaction."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(f"INSERT INTO {{p}}jobs ({_JOB_COLUMNS}) VALUES ({', '.join('?' * 15)})"),
                (
                    job.job_id,
                    job.owner,
                    job.collection,
                    job.status,
                    job.message,
                    job.progress,
                    stamp(job.created),
                    stamp(job.updated),
                    stamp(job.expires),
                    job.num_granules,
                    job.preview_count,
                    json.dumps(list(job.labels)),
                    json.dumps(dict(job.request), sort_keys=True),
                    job.fingerprint,
                    job.idempotency_key,
                ),
            )
            for g in granules:
                cur.execute(
                    self._sql(
                        "INSERT INTO {p}granules (job_id, idx, item_id, href, status) "
                        "VALUES (?, ?, ?, ?, ?)"
                    ),
                    (g.job_id, g.index, g.item_id, g.href, g.status),
                )

    def job(self, job_id: str) -> JobRecord | None:
        """The job, or None."""
        rows = self._query(f"SELECT {_JOB_COLUMNS} FROM {{p}}jobs WHERE job_id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def duplicate(
        self, owner: str, fingerprint: str, since: dt.datetime, idempotency_key: str | None
    ) -> JobRecord | None:
        """The job a repeated submission means: same owner and Idempotency-Key, or same owner
        and request fingerprint created after ``since``."""
        if idempotency_key:
            rows = self._query(
                f"SELECT {_JOB_COLUMNS} FROM {{p}}jobs WHERE owner = ? AND idempotency_key = ? "
                "ORDER BY created DESC LIMIT 1",
                (owner, idempotency_key),
            )
        else:
            rows = self._query(
                f"SELECT {_JOB_COLUMNS} FROM {{p}}jobs WHERE owner = ? AND fingerprint = ? "
                "AND created >= ? ORDER BY created DESC LIMIT 1",
                (owner, fingerprint, stamp(since)),
            )
        return _job(rows[0]) if rows else None

    def jobs(
        self, owner: str, label: str | None, offset: int, limit: int
    ) -> tuple[list[JobRecord], int]:
        """A page of the owner's jobs, newest first, and how many there are (``label``
        filters on one label)."""
        select = f"SELECT {_JOB_COLUMNS} FROM {{p}}jobs WHERE owner = ?"
        order = " ORDER BY created DESC, job_id"
        if label is None:
            # The page only, and the count, from the database.
            counted = self._query("SELECT COUNT(*) FROM {p}jobs WHERE owner = ?", (owner,))
            rows = self._query(select + order + " LIMIT ? OFFSET ?", (owner, limit, offset))
            return [_job(r) for r in rows], int(counted[0][0])
        # Labels are a JSON list: the database narrows to rows whose text holds the label's
        # JSON form, the exact membership test runs on those.
        pattern = "%" + _like_escape(json.dumps(label)) + "%"
        rows = self._query(select + " AND labels LIKE ? ESCAPE '\\'" + order, (owner, pattern))
        jobs = [j for j in map(_job, rows) if label in j.labels]
        return jobs[offset : offset + limit], len(jobs)

    def active(self) -> list[JobRecord]:
        """Jobs whose queued granules may be dispatched, oldest first."""
        marks = ", ".join("?" * len(ACTIVE))
        rows = self._query(
            f"SELECT {_JOB_COLUMNS} FROM {{p}}jobs WHERE status IN ({marks}) ORDER BY created",
            sorted(ACTIVE),
        )
        return [_job(r) for r in rows]

    def update(self, job_id: str, status: str, message: str, progress: int) -> None:
        """Set a job's status, message and progress (and its updated time)."""
        from eoaccess.harmony._params import utc_now

        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "UPDATE {p}jobs SET status = ?, message = ?, progress = ?, updated = ? "
                    "WHERE job_id = ?"
                ),
                (status, message, progress, stamp(utc_now()), job_id),
            )

    # --- expiry ---------------------------------------------------------------------------

    def expired(self, now: dt.datetime) -> list[JobRecord]:
        """Finished jobs past their expiration whose outputs were not deleted yet."""
        marks = ", ".join("?" * len(TERMINAL))
        rows = self._query(
            f"SELECT {_JOB_COLUMNS} FROM {{p}}jobs WHERE expires <= ? AND status IN ({marks}) "
            "AND job_id NOT IN (SELECT job_id FROM {p}purged) ORDER BY expires",
            (stamp(now), *sorted(TERMINAL)),
        )
        return [_job(r) for r in rows]

    def mark_purged(self, job_id: str, when: dt.datetime) -> None:
        """Record that the job's outputs were deleted."""
        with self._transaction() as cur:
            cur.execute(
                self._sql("INSERT INTO {p}purged (job_id, purged) VALUES (?, ?)"),
                (job_id, stamp(when)),
            )

    def purged(self, job_id: str) -> dt.datetime | None:
        """When the job's outputs were deleted, or None."""
        rows = self._query("SELECT purged FROM {p}purged WHERE job_id = ?", (job_id,))
        return _moment(rows[0][0]) if rows else None

    # --- granules -------------------------------------------------------------------------

    def granules(
        self,
        job_id: str,
        status: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[GranuleRecord]:
        """The job's granules in order (optionally only those in ``status``)."""
        sql = "SELECT job_id, idx, item_id, href, status, output, error FROM {p}granules "
        sql += "WHERE job_id = ?"
        args: list[Any] = [job_id]
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        sql += " ORDER BY idx"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        return [_granule(r) for r in self._query(sql, args)]

    def counts(self, job_id: str) -> dict[str, int]:
        """Granule state -> number of granules of the job."""
        rows = self._query(
            "SELECT status, COUNT(*) FROM {p}granules WHERE job_id = ? GROUP BY status", (job_id,)
        )
        return {r[0]: int(r[1]) for r in rows}

    def set_granule(
        self,
        job_id: str,
        index: int,
        status: str,
        output: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Record a granule's new state (and its output or error)."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "UPDATE {p}granules SET status = ?, output = ?, error = ? "
                    "WHERE job_id = ? AND idx = ?"
                ),
                (status, json.dumps(output) if output else None, error, job_id, index),
            )

    def cancel_queued(self, job_id: str) -> int:
        """Mark the job's queued granules canceled; how many were."""
        with self._transaction() as cur:
            cur.execute(
                self._sql("UPDATE {p}granules SET status = ? WHERE job_id = ? AND status = ?"),
                (GRANULE_CANCELED, job_id, QUEUED),
            )
            return int(cur.rowcount or 0)

    def requeue_interrupted(self) -> int:
        """After a restart: granules that were running when the server stopped are queued
        again (their outputs have deterministic names and are written atomically, so a rerun
        replaces rather than duplicates)."""
        with self._transaction() as cur:
            cur.execute(
                self._sql("UPDATE {p}granules SET status = ? WHERE status = ?"),
                (QUEUED, GRANULE_RUNNING),
            )
            return int(cur.rowcount or 0)


def _sqlite_dialect(path: Path) -> Dialect:
    def connect() -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot create the job state folder {path.parent}: {exc}"
            ) from None
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    return Dialect(str(path), "", "?", connect)


def _pg_dialect(dsn: str, location: str) -> Dialect:
    def connect() -> Any:
        import psycopg

        return psycopg.connect(dsn, autocommit=True)

    return Dialect(
        location,
        f"{PG_SCHEMA}.",
        "%s",
        connect,
        setup=(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}",),
    )


# Registry: module of the catalog store class -> the job state that lives beside it.
_STATE_BESIDE: dict[str, Callable[[Any], Dialect]] = {
    "eoaccess.stores.embedded": lambda store: _sqlite_dialect(
        Path(store.path).parent / SQLITE_FILENAME
    ),
    "eoaccess.stores.pgstac": lambda store: _pg_dialect(store.dsn, f"{store.uri} ({PG_SCHEMA})"),
}


def open_state(store: CatalogStore, location: str | Path | None = None) -> JobState:
    """The job state beside ``store`` (or in the SQLite file / PostgreSQL DSN ``location``)."""
    if location is not None:
        text = str(location)
        if text.startswith(("postgresql://", "postgres://")):
            return JobState(_pg_dialect(text, "PostgreSQL"))
        return JobState(_sqlite_dialect(Path(text)))
    module = type(store).__module__
    if module not in _STATE_BESIDE:
        raise HarmonyUnavailable(f"no job state for catalogs of type {type(store).__name__}")
    return JobState(_STATE_BESIDE[module](store))


def _like_escape(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
