#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the @userplug/store-postgres tests, on 127.0.0.1 and a free port,
# in a new temporary folder. Either source it (exports the variables below; the cluster is stopped and deleted
# when the sourcing shell exits, unless that shell already has an EXIT trap):
#
#   source packages/store-postgres/scripts/start-test-postgres.sh
#
# or run it and eval what it prints:
#
#   eval "$(packages/store-postgres/scripts/start-test-postgres.sh)"
#   npx vitest run packages/store-postgres
#   packages/store-postgres/scripts/stop-test-postgres.sh
#
# Exports USERPLUG_TEST_DATABASE_URL (postgresql://userplug@127.0.0.1:PORT/postgres, trust auth, local only)
# and USERPLUG_TEST_PGDATA (the cluster's folder, for stop-test-postgres.sh). Logs go to stderr.
# Uses Debian's server binaries (/usr/lib/postgresql/<version>/bin) or PG_BIN; when none are installed and
# this runs as root with apt-get, installs Debian's `postgresql` package first. As root, the cluster runs
# as the `postgres` system user (PostgreSQL refuses to run as root).

_userplug_pg_log() { echo "start-test-postgres: $*" >&2; }

_userplug_pg_find_bin() {
  if [[ -n "${PG_BIN:-}" && -x "$PG_BIN/initdb" ]]; then echo "$PG_BIN"; return 0; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$found" && -x "$found/initdb" ]]; then echo "$found"; return 0; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return 0; fi
  return 1
}

_userplug_pg_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  else
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  fi
}

# Sets USERPLUG_TEST_DATABASE_URL and USERPLUG_TEST_PGDATA; returns non-zero (never exits) on failure.
_userplug_pg_start() {
  local bin dir port options attempt owner=""
  if ! bin=$(_userplug_pg_find_bin); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      _userplug_pg_log "no PostgreSQL server binaries found; installing Debian's postgresql package"
      { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql \
        || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; }; } >&2 || return 1
      bin=$(_userplug_pg_find_bin) || { _userplug_pg_log "postgresql installed but initdb not found"; return 1; }
    else
      _userplug_pg_log "no PostgreSQL server binaries: install Debian's postgresql package (apt-get install -y postgresql) or set PG_BIN"
      return 1
    fi
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/userplug-pg.XXXXXX") || return 1
  chmod 755 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    owner=postgres
    id "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/sh "$owner" || return 1
    chown "$owner" "$dir"
  fi
  _userplug_pg_as() { if [[ -n "$owner" ]]; then runuser -u "$owner" -- "$@"; else "$@"; fi; }
  if ! _userplug_pg_as "$bin/initdb" -D "$dir/data" -U userplug --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    return 1
  fi
  # Throwaway data: no fsync. Only 127.0.0.1, and the socket inside the folder.
  options="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  for attempt in 1 2 3 4 5; do
    port=$(_userplug_pg_free_port) || return 1
    if _userplug_pg_as "$bin/pg_ctl" -D "$dir/data" -o "$options -p $port" -l "$dir/server.log" -w -t 30 start >&2; then
      _userplug_pg_log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir"
      export USERPLUG_TEST_DATABASE_URL="postgresql://userplug@127.0.0.1:$port/postgres"
      export USERPLUG_TEST_PGDATA="$dir"
      return 0
    fi
    _userplug_pg_log "start on port $port failed (attempt $attempt)"
  done
  cat "$dir/server.log" >&2 || true
  return 1
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  _userplug_pg_start || return 1
  if [[ -z "$(trap -p EXIT)" ]]; then
    # shellcheck disable=SC2064
    trap "bash '$(dirname "${BASH_SOURCE[0]}")/stop-test-postgres.sh' '$USERPLUG_TEST_PGDATA'" EXIT
  fi
else
  set -euo pipefail
  _userplug_pg_start
  echo "export USERPLUG_TEST_DATABASE_URL='$USERPLUG_TEST_DATABASE_URL'"
  echo "export USERPLUG_TEST_PGDATA='$USERPLUG_TEST_PGDATA'"
fi
