#!/usr/bin/env bash
# Installs the Debian packages caviar needs to build, test and run its demo, and the npm
# packages pinned in web/package-lock.json (plotly.js, built into `caviar report` and
# `caviar dashboard`;
# playwright-core, which drives chromium in the browser tests).
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(
  g++ cmake make pkg-config
  libeigen3-dev libopenblas-dev
  libsqlite3-dev sqlite3
  libpq-dev postgresql
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  libnlopt-cxx-dev libcpp-httplib-dev curl
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist
  python3-optuna python3-psycopg2
  pybind11-dev python3-pytest python3-pandas
  tzdata
  chromium
)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# web/node_modules as the lock file pins it; installed again when the lock file changes.
if [ ! -f web/node_modules/.package-lock.json ] ||
   [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in web/"
  (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
