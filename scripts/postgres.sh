#!/usr/bin/env bash
# A throwaway PostgreSQL server on this machine, for the PostgreSQL results store's tests (PostgresStoreTests) and for
# trying `--store postgresql://…` without a server: a cluster made with initdb in DIR, listening on 127.0.0.1:PORT only
# (and a Unix socket in DIR), with a database `ballast` owned by the user `ballast` (trust authentication: no
# password) and a user `ballast_pw` with the password `s3cret-pw` (SCRAM-SHA-256), for testing password authentication.
#   scripts/postgres.sh start DIR PORT   # prints postgresql://ballast@127.0.0.1:PORT/ballast
#   scripts/postgres.sh stop DIR         # stops the server and removes DIR
# Installs Debian's postgresql when missing (as root, apt-get). As root, the cluster belongs to the `postgres` user
# (initdb refuses to run as root): DIR is created for it, and its parent must be reachable by it (e.g. under /tmp).
# Not for production: trust authentication for `ballast`, a fixed test password, no TLS.
set -euo pipefail

usage() { echo "usage: scripts/postgres.sh start DIR PORT | stop DIR" >&2; exit 2; }
marker=.ballast-postgres

# The newest installed PostgreSQL's bin directory (Debian keeps initdb and pg_ctl off PATH).
bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# Runs a command as the cluster's owner: the postgres user when root, else the caller.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local dir=$1 port=$2 bin
  case $port in '' | *[!0-9]*) echo "postgres.sh: PORT must be a number, got '$port'" >&2; exit 2 ;; esac
  if ! bin=$(bindir); then
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres.sh: PostgreSQL is not installed (/usr/lib/postgresql/*/bin): run as root to install Debian's postgresql" >&2
      exit 1
    fi
    echo "postgres.sh: installing postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bin=$(bindir) || { echo "postgres.sh: postgresql installed but no initdb under /usr/lib/postgresql/*/bin" >&2; exit 1; }
  fi
  if [ -e "$dir/data/postmaster.pid" ]; then
    echo "postgres.sh: a server may already run in $dir (stop it first: scripts/postgres.sh stop $dir)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  touch "$dir/$marker"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
  chmod 0700 "$dir"

  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
    echo "postgres.sh: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1
  }
  # Only this machine: TCP on 127.0.0.1, the Unix socket in DIR. ballast_pw must give its password; the rest is trusted.
  cat >"$dir/data/pg_hba.conf" <<HBA
# Written by scripts/postgres.sh: a throwaway test cluster.
# TYPE  DATABASE  USER        ADDRESS        METHOD
local   all       all                        trust
host    all       ballast_pw  127.0.0.1/32   scram-sha-256
host    all       all         127.0.0.1/32   trust
HBA
  cat >>"$dir/data/postgresql.conf" <<CONF
# Written by scripts/postgres.sh.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
password_encryption = 'scram-sha-256'
max_wal_size = '2GB'
CONF
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir/data/pg_hba.conf" "$dir/data/postgresql.conf"; fi
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
    echo "postgres.sh: the server did not start on 127.0.0.1:$port:" >&2
    tail -n 20 "$dir/server.log" >&2 || true
    exit 1
  fi
  "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<'SQL'
CREATE ROLE ballast LOGIN CREATEDB;
CREATE DATABASE ballast OWNER ballast;
CREATE ROLE ballast_pw LOGIN PASSWORD 's3cret-pw';
GRANT CONNECT, CREATE ON DATABASE ballast TO ballast_pw;
SQL
  echo "postgres.sh: PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir; also user ballast_pw, password s3cret-pw)" >&2
  echo "postgresql://ballast@127.0.0.1:$port/ballast"
}

stop() {
  local dir=$1 bin
  [ -d "$dir" ] || return 0
  if [ -z "$(ls -A "$dir")" ]; then rmdir "$dir"; return 0; fi
  if [ ! -e "$dir/$marker" ]; then
    echo "postgres.sh: $dir was not made by scripts/postgres.sh start: not removing it" >&2
    exit 1
  fi
  if [ -e "$dir/data/postmaster.pid" ] && bin=$(bindir); then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
  fi
  rm -rf "$dir"
}

case ${1:-} in
  start) [ $# -eq 3 ] || usage; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
