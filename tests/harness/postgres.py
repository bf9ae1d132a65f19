"""A throwaway PostgreSQL+PostGIS cluster on a loopback port for the test session.

PostgreSQL refuses to run as root, so when the tests run as root the cluster is created and
started as the ``postgres`` system user. The data directory lives under /tmp (readable by that
user) and is removed when the cluster stops.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.harness.ports import free_port


class PostgresUnavailable(RuntimeError):
    """PostgreSQL binaries are missing: run `make test`, which installs them."""


def _bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("initdb not found; install Debian's postgresql (make test does)")


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class PostgresCluster:
    """A running cluster; ``dsn`` connects as superuser ``postgres`` to database ``eoaccess``."""

    bindir: Path
    datadir: Path
    port: int
    workdir: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/eoaccess"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"]
            ),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_postgres() -> PostgresCluster:
    """initdb, start on a free port (TCP on 127.0.0.1 only), create database ``eoaccess`` with PostGIS."""
    bindir = _bindir()
    workdir = Path(tempfile.mkdtemp(prefix="eoaccess-pg-"))
    datadir = workdir / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(workdir, user.pw_uid, user.pw_gid)
    port = free_port()

    def run(cmd: list[str]) -> None:
        done = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(cmd[:2])} failed: {done.stderr.strip()[-2000:]}")

    run(
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]
    )
    options = (
        f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-l",
            str(workdir / "log"),
            "-w",
            "-t",
            "60",
            "start",
        ]
    )
    cluster = PostgresCluster(bindir=bindir, datadir=datadir, port=port, workdir=workdir)
    try:
        psql = str(bindir / "psql")
        base = [
            psql,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
        ]
        run([*base, "-d", "postgres", "-c", "CREATE DATABASE eoaccess"])
        run([*base, "-d", "eoaccess", "-c", "CREATE EXTENSION IF NOT EXISTS postgis"])
    except BaseException:
        cluster.stop()
        raise
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
        )
        if ready.returncode == 0:
            break
        time.sleep(0.1)
    return cluster
