#!/usr/bin/env bash
# Runs every test through CTest. Called by `make test` after the build, and by
# `make test-sanitize` for its builds. Usage: scripts/test.sh [BUILD] [CTEST ARGUMENTS...]
#
# The PostgreSQL store is tested against a real server: a throwaway cluster in a temporary
# folder, listening only on a Unix socket there (no TCP port to clash with), stopped and
# removed when the tests end. The tests find it through PGHOST and PGUSER.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -x "$pg_bin/initdb" ] || { echo "test: PostgreSQL's initdb not found; run scripts/setup.sh" >&2; exit 1; }
pg_dir=$(mktemp -d /tmp/caviar-pg-XXXXXX)
as_pg() {  # PostgreSQL will not run as root: as root, run it as the postgres user
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$pg_dir"
stop_pg() {
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U caviar --auth=trust -E UTF8 >"$pg_dir/initdb.log" 2>&1 ||
  { cat "$pg_dir/initdb.log" >&2; exit 1; }
# fsync off: a test cluster that is thrown away need not survive a power cut. A synchronous
# standby that never connects, waited for only where a test sets synchronous_commit = on
# (then a COMMIT is written but its reply held back: the lost reply of a dropped connection).
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
  -o "-k $pg_dir -c listen_addresses= -c fsync=off -c max_connections=200 \
      -c synchronous_standby_names=caviar_test_no_standby -c synchronous_commit=local" start >/dev/null ||
  { cat "$pg_dir/server.log" >&2; exit 1; }
export PGHOST=$pg_dir PGUSER=caviar CAVIAR_TEST_POSTGRESQL=1

ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600 "${@:2}"
