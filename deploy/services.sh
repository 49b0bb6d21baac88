#!/usr/bin/env bash
# Installs (when missing) and starts the services leadpipe needs on this machine, on loopback,
# with their data under the repo's ignored .data/ folder. Idempotent: running it again when the
# services are up does nothing.
#
#   deploy/services.sh up       install if missing, start, create the leadpipe role and database;
#                               also install Prometheus (for the tests of dashboards and alert
#                               rules), without starting it
#   deploy/services.sh down     stop what this script started
#   deploy/services.sh status   say what runs
#   deploy/services.sh env      print the LEADPIPE_* variables that point at these services
#
# Settings (environment): LEADPIPE_DATA_DIR (default <repo>/.data), LEADPIPE_PG_PORT (55432).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data_dir=${LEADPIPE_DATA_DIR:-$repo/.data}
pg_port=${LEADPIPE_PG_PORT:-55432}
pg_url="postgres://leadpipe@127.0.0.1:${pg_port}/leadpipe?sslmode=disable"

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

pg_down() {
  local bin dir
  bin=$(pg_bin) || return 0
  dir=$(pg_dir)
  [ -f "$dir/PG_VERSION" ] || return 0
  as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1 || return 0
  as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null && log "postgres stopped"
}

case "${1:-up}" in
  up)
    pg_up
    install_prometheus
    ;;
  down) pg_down ;;
  status)
    if pg_isready -h 127.0.0.1 -p "$pg_port" >/dev/null 2>&1; then echo "postgres: up ($pg_url)"; else echo "postgres: down"; fi ;;
  env) echo "LEADPIPE_POSTGRES_URL=$pg_url" ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
