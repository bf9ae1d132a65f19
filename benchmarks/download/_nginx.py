"""A throwaway nginx on a loopback port: the fast static server the download benchmark needs.

Python's http.server would be the bottleneck; nginx with sendfile is not. It runs as a daemon
with its own config, pid and temp paths under the work directory, and is stopped afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.harness.ports import free_port

from eoaccess.errors import DependencyError

_CONFIG = """\
worker_processes {workers};
daemon on;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format bytes '$request_method $uri $status $body_bytes_sent "$http_range"';
    access_log {access_log};
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    default_type application/octet-stream;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        autoindex on;
    }}
}}
"""


@dataclass
class Nginx:
    """A running nginx serving ``root`` at ``url`` (no trailing slash)."""

    url: str
    work: Path
    pid: int

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGQUIT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)


def start_nginx(root: Path, work: Path, workers: int = 1, access_log: Path | None = None) -> Nginx:
    """Start nginx for ``root``; raise DependencyError when it is not installed.

    ``access_log``: a file receiving one line per request, ``METHOD URI STATUS BYTES "RANGE"``
    (off by default: logging costs time the download benchmark measures).
    """
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        raise DependencyError(
            "nginx is not installed: run scripts/install-system-deps.sh (Debian package nginx-light)"
        )
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = work / "nginx.conf"
    log = f"{access_log} bytes" if access_log is not None else "off"
    config.write_text(
        _CONFIG.format(workers=workers, work=work, port=port, root=root.resolve(), access_log=log)
    )
    done = subprocess.run(
        [binary, "-c", str(config), "-p", str(work), "-e", str(work / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DependencyError(f"nginx did not start: {done.stderr.strip()}")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise DependencyError("nginx started but does not answer") from None
            time.sleep(0.05)
    return Nginx(url=url, work=work, pid=int((work / "nginx.pid").read_text()))
