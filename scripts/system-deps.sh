#!/usr/bin/env bash
# System packages the tests need and pip cannot install, from Debian: Prometheus and promtool
# (`prometheus`), for the metrics tests that run a real Prometheus, `redis-server`, for
# the rate-limit tests that share counters through a real Redis, `postgresql`, for the
# store, auth, degradation and job tests that run on PostgreSQL too (the tests start their
# own server with initdb/pg_ctl from /usr/lib/postgresql/<version>/bin), and `chromium`
# with a CJK font (`fonts-noto-cjk`), for the console's browser tests (Playwright drives
# Debian's chromium; without a CJK font Chinese renders as empty boxes). Idempotent: does nothing
# when all are on PATH; says so when it cannot install (not root, no apt-get): the tests
# that need them then skip locally and fail under CI.
set -euo pipefail

missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
pg_ctl_path() { command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1; }
[ -n "$(pg_ctl_path)" ] || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 \
  || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${missing[*]} and cannot install them (need root and apt-get):" \
    "install Debian's packages of those names to run the tests that use them" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages start system services on some hosts; the tests run their own servers.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now prometheus redis-server postgresql >/dev/null 2>&1 || true
fi
for name in prometheus redis-server "$(pg_ctl_path)"; do
  echo "system-deps: $("$name" --version 2>&1 | head -1)"
done
