#!/usr/bin/env bash
# Installs the Debian packages caviar needs to build, test and run its demo.
# Idempotent and quiet when everything is already there.
set -euo pipefail
packages=(
  g++ cmake make pkg-config
  libeigen3-dev libopenblas-dev
  libsqlite3-dev sqlite3
  libpq-dev postgresql
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
  libnlopt-cxx-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist
  python3-optuna
  tzdata
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
