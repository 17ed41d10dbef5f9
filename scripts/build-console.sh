#!/usr/bin/env bash
# Builds the web console (gateway/console/ui-src, TypeScript) into gateway/console/static,
# which the gateway serves under /ui. Needs Node.js 18+ and npm at build time only; the
# exact packages come from the committed package-lock.json (npm ci). Idempotent: does
# nothing when the sources have not changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/../gateway/console/ui-src"

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "build-console: Node.js and npm are needed to build the web console (/ui):" \
    "install them (Debian: apt-get install nodejs npm) and run scripts/install.sh again" >&2
  exit 1
fi
out=../static
stamp="$out/.built-$(find src build.mjs index.html style.css package.json package-lock.json \
  tsconfig.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "building the web console ..."
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
touch "$stamp"
