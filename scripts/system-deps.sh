#!/usr/bin/env bash
# System packages the tests need and pip cannot install: Prometheus and promtool (Debian's
# `prometheus` package), for the metrics tests that run a real Prometheus. Idempotent: does
# nothing when both are on PATH; skips with a message when it cannot install (not root, no
# apt-get), and those tests then skip too.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: prometheus/promtool missing and not root: install Debian's 'prometheus'" \
    "package to run the Prometheus tests (they are skipped)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: prometheus/promtool missing and no apt-get: the Prometheus tests are skipped" >&2
  exit 0
fi
echo "system-deps: installing prometheus (with promtool) ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package starts a system service on some hosts; the tests run their own Prometheus.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
echo "system-deps: $(prometheus --version 2>&1 | head -1)"
