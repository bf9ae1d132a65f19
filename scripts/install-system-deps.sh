#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only those that are missing:
# PostgreSQL + PostGIS (catalog and job-state tests), rclone and aria2 (download-list tests),
# Chromium (renders HTML maps and the quickstart report in tests), and for the download
# benchmark nginx (a fast static server), curl and GNU time (peak RSS of each tool).
set -euo pipefail

missing=()
have_pg() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
have_postgis() { compgen -G "/usr/share/postgresql/*/extension/postgis.control" >/dev/null; }

have_pg || missing+=(postgresql)
have_postgis || missing+=(postgresql-15-postgis-3)
command -v rclone >/dev/null || missing+=(rclone)
command -v aria2c >/dev/null || missing+=(aria2)
command -v chromium >/dev/null || missing+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
[ -x /usr/bin/time ] || missing+=(time)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing system packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    sudo="sudo"
  else
    echo "error: need root (or sudo) to install ${missing[*]} with apt-get" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
