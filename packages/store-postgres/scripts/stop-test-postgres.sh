#!/usr/bin/env bash
# Stops the cluster that start-test-postgres.sh started (folder in USERPLUG_TEST_PGDATA or $1) and deletes it.
set -euo pipefail
DIR=${1:-${USERPLUG_TEST_PGDATA:-}}
if [[ -z "$DIR" || ! -d "$DIR/data" ]]; then echo "stop-test-postgres: no cluster folder (pass it or set USERPLUG_TEST_PGDATA)" >&2; exit 0; fi
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x "$BIN/pg_ctl" ]] || BIN=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
if [[ $(id -u) -eq 0 ]]; then
  runuser -u "$(stat -c %U "$DIR/data")" -- "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >&2 || true
else
  "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >&2 || true
fi
rm -rf "$DIR"
