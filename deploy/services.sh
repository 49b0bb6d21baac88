#!/usr/bin/env bash
# Installs (when missing) and starts the services leadpipe needs on this machine, on loopback,
# with their data under the repo's ignored .data/ folder: Postgres and ClickHouse. Idempotent:
# running it again when the services are up does nothing.
#
#   deploy/services.sh up [SERVICE…]      install if missing, start, create the leadpipe role and
#                                         database; up also installs Prometheus (for the tests of
#                                         dashboards and alert rules), without starting it, and
#                                         LibreOffice Calc without a GUI (for the test that imports
#                                         spreadsheets LibreOffice writes) and Chromium (for the
#                                         tests that drive the web page in a real browser)
#   deploy/services.sh down [SERVICE…]    stop what this script started
#   deploy/services.sh status             say what runs
#   deploy/services.sh env                print the LEADPIPE_* variables that point at these services
#
# SERVICE is postgres or clickhouse; none means both.
# Settings (environment): LEADPIPE_DATA_DIR (default <repo>/.data), LEADPIPE_PG_PORT (55432),
# LEADPIPE_CH_PORT (19000: ClickHouse's native protocol, away from a system server's 9000).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data_dir=${LEADPIPE_DATA_DIR:-$repo/.data}
pg_port=${LEADPIPE_PG_PORT:-55432}
pg_url="postgres://leadpipe@127.0.0.1:${pg_port}/leadpipe?sslmode=disable"
ch_port=${LEADPIPE_CH_PORT:-19000}
ch_addr="127.0.0.1:${ch_port}"
ch_dir=$data_dir/clickhouse
PATH=$PATH:/usr/sbin # where Debian puts clickhouse-server, outside most users' PATH

log() { echo "services: $*" >&2; }

# as_pg runs a command as the postgres OS user when we are root (Postgres refuses to run as
# root), else as ourselves.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

install_postgres() {
  if pg_bin >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || { log "Postgres is not installed and we are not root: install the 'postgresql' package"; exit 1; }
  log "installing postgresql (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  # The package may start its own cluster on 5432; ours is separate and leaves it alone.
}

pg_dir() {
  # The postgres user must reach the data folder; a repo under a private home cannot be.
  local dir=$data_dir/postgres
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      dir=/var/lib/postgresql/leadpipe-$pg_port
      mkdir -p "$dir" && chown postgres:postgres "$dir"
    fi
  else
    mkdir -p "$dir"
  fi
  echo "$dir"
}

pg_up() {
  install_postgres
  local bin dir
  bin=$(pg_bin)
  dir=$(pg_dir)
  if ! [ -f "$dir/PG_VERSION" ]; then
    log "initialising a Postgres cluster in $dir"
    as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/postgresql.conf" <<CONF
# leadpipe local development cluster (deploy/services.sh)
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$dir'
shared_buffers = 256MB
max_wal_size = 4GB
synchronous_commit = off
max_connections = 200
CONF
  fi
  if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "postgres already running on 127.0.0.1:$pg_port"
  else
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
      log "another server already listens on 127.0.0.1:$pg_port; stop it or set LEADPIPE_PG_PORT"
      exit 1
    fi
    log "starting postgres on 127.0.0.1:$pg_port"
    if ! as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null; then
      log "postgres did not start; its log:"
      tail -n 20 "$dir/server.log" >&2
      exit 1
    fi
  fi
  local psql=("$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qAtX)
  if [ -z "$("${psql[@]}" -c "select 1 from pg_roles where rolname='leadpipe'")" ]; then
    "${psql[@]}" -c "create role leadpipe login createdb" >/dev/null
  fi
  if [ -z "$("${psql[@]}" -c "select 1 from pg_database where datname='leadpipe'")" ]; then
    "${psql[@]}" -c "create database leadpipe owner leadpipe" >/dev/null
  fi
}

# install_prometheus installs the prometheus package (prometheus and promtool) when missing,
# without letting the package start or enable its own service: the tests run their own.
install_prometheus() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null; then return; fi
  if [ "$(id -u)" != 0 ]; then
    log "Prometheus is not installed and we are not root: install the 'prometheus' package"
    return
  fi
  log "installing prometheus (apt; its service is not started)"
  (
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
      trap 'rm -f "$policy"' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    if [ -d /run/systemd/system ]; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  )
}

# install_libreoffice installs LibreOffice Calc without its GUI (libreoffice-calc-nogui, which
# brings soffice) when soffice is missing: the importer's tests convert spreadsheets with it.
install_libreoffice() {
  if command -v soffice >/dev/null; then return; fi
  if [ "$(id -u)" != 0 ]; then
    log "LibreOffice is not installed and we are not root: install the 'libreoffice-calc-nogui' package"
    return
  fi
  log "installing libreoffice-calc-nogui (apt)"
  (
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null
  )
}

# install_chromium installs Debian's chromium when it is missing: the page's tests drive it
# headless through the DevTools protocol (chromedp). It runs no service.
install_chromium() {
  if command -v chromium >/dev/null; then return; fi
  if [ "$(id -u)" != 0 ]; then
    log "Chromium is not installed and we are not root: install the 'chromium' package"
    return
  fi
  log "installing chromium (apt)"
  (
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  )
}

pg_down() {
  local bin dir
  bin=$(pg_bin) || return 0
  dir=$(pg_dir)
  [ -f "$dir/PG_VERSION" ] || return 0
  as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1 || return 0
  as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null && log "postgres stopped"
}

install_clickhouse() {
  if command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || { log "ClickHouse is not installed and we are not root: install the 'clickhouse-server' and 'clickhouse-client' packages"; exit 1; }
  log "installing clickhouse-server (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The package does not start a server of its own in containers; where it does (systemd), that
  # one listens on 9000 and ours on $ch_port, each with its own data.
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 clickhouse-server clickhouse-client >/dev/null
}

# ch_answers reports whether a ClickHouse server answers on our port.
ch_answers() {
  clickhouse-client --host 127.0.0.1 --port "$ch_port" --connect_timeout 2 -q 'SELECT 1' >/dev/null 2>&1
}

# ch_pid prints the pid of the server this script started, when it still runs.
ch_pid() {
  local pid
  pid=$(cat "$ch_dir/server.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && grep -qa clickhouse-server "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

# ch_config writes the private server's configuration: loopback only, native protocol only (the
# HTTP interface is off: clickhouse-go talks native, and 18.16's HTTP mode fails with it), one
# passwordless default user reachable from loopback, everything under $ch_dir. ClickHouse runs
# as the invoking user, root included (unlike Postgres, it does not refuse root).
ch_config() {
  mkdir -p "$ch_dir/data" "$ch_dir/log"
  cat >"$ch_dir/config.xml" <<CONF
<?xml version="1.0"?>
<!-- leadpipe local development server (deploy/services.sh); rewritten on every start -->
<yandex>
  <logger>
    <level>warning</level>
    <log>$ch_dir/log/server.log</log>
    <errorlog>$ch_dir/log/server.err.log</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$ch_port</tcp_port>
  <path>$ch_dir/data/</path>
  <tmp_path>$ch_dir/data/tmp/</tmp_path>
  <user_files_path>$ch_dir/data/user_files/</user_files_path>
  <format_schema_path>$ch_dir/data/format_schemas/</format_schema_path>
  <users_config>$ch_dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
CONF
  cat >"$ch_dir/users.xml" <<'CONF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
CONF
}

ch_up() {
  install_clickhouse
  local i started=
  if ! ch_pid >/dev/null; then
    if ch_answers; then
      log "another server already answers on $ch_addr; stop it or set LEADPIPE_CH_PORT"
      exit 1
    fi
    ch_config
    rm -f "$ch_dir/server.pid" # left by a server that was killed
    log "starting clickhouse on $ch_addr"
    clickhouse-server --config-file="$ch_dir/config.xml" --pid-file="$ch_dir/server.pid" --daemon >/dev/null 2>&1
    started=1
  fi
  for i in $(seq 120); do
    if ch_answers; then
      [ -n "$started" ] || log "clickhouse already running on $ch_addr"
      return
    fi
    if ! ch_pid >/dev/null && [ "$i" -gt 4 ]; then break; fi
    sleep 0.5
  done
  log "clickhouse did not start; its log:"
  tail -n 20 "$ch_dir/log/server.err.log" >&2 2>/dev/null || true
  exit 1
}

ch_down() {
  local pid i
  pid=$(ch_pid) || return 0
  kill "$pid"
  for i in $(seq 60); do
    ch_pid >/dev/null || { log "clickhouse stopped"; return; }
    sleep 0.5
  done
  log "clickhouse ($pid) did not stop in 30 s"
  exit 1
}

# services prints the services named in "$@", or both when none is.
services() {
  local s
  [ $# -gt 0 ] || set -- postgres clickhouse
  for s in "$@"; do
    case "$s" in
      postgres | clickhouse) echo "$s" ;;
      *) log "unknown service $s: want postgres or clickhouse"; exit 2 ;;
    esac
  done
}

cmd=${1:-up}
[ $# -gt 0 ] && shift
case "$cmd" in
  up)
    for s in $(services "$@"); do
      case "$s" in postgres) pg_up ;; clickhouse) ch_up ;; esac
    done
    install_prometheus
    install_libreoffice
    install_chromium ;;
  down)
    for s in $(services "$@"); do
      case "$s" in postgres) pg_down ;; clickhouse) ch_down ;; esac
    done ;;
  status)
    if pg_isready -h 127.0.0.1 -p "$pg_port" >/dev/null 2>&1; then echo "postgres: up ($pg_url)"; else echo "postgres: down"; fi
    if command -v clickhouse-client >/dev/null && ch_answers; then echo "clickhouse: up ($ch_addr)"; else echo "clickhouse: down"; fi ;;
  env)
    echo "LEADPIPE_POSTGRES_URL=$pg_url"
    echo "LEADPIPE_CLICKHOUSE_ADDR=$ch_addr" ;;
  *) echo "usage: $0 up|down [postgres|clickhouse]… | status | env" >&2; exit 2 ;;
esac
