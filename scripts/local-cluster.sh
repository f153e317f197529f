#!/usr/bin/env bash
# local-cluster.sh: a whole Skald cluster on one machine, one process per role, on 127.0.0.1.
#
#   scripts/local-cluster.sh up DIR             start etcd, radosgw (S3) and every Skald role
#   scripts/local-cluster.sh down DIR           stop them all (Skald roles first, by SIGTERM)
#   scripts/local-cluster.sh status DIR         one line per process: pid, running?, /ready
#   scripts/local-cluster.sh restart DIR NAME   stop (if running) and start one Skald role again
#
# `up` starts, in this order:
#   etcd             scripts/servers/start-etcd.sh DIR/etcd PORT     (the ring store)
#   rgw              scripts/servers/start-ceph-rgw.sh DIR/rgw PORT BUCKET
#                    (Ceph radosgw + ceph-mon + ceph-osd with a memstore OSD: the S3 bucket)
#   compactor, ingester-1..3, distributor-1..2, querier-1..2, query-frontend
#                    (each `skald -target=<role>` on its own ports, ring in etcd,
#                    replication factor 3, chunks and index in the S3 bucket)
# The Skald roles are launched one after the other without waiting (a querier keeps dialling
# the query-frontend until it answers); then `up` returns once every one answers 200 on
# GET /ready, or fails, naming the role that exited or did not get ready with the end of its
# log, after stopping everything it started.
# `down` sends SIGTERM to the query-frontend, queriers and distributors, waits for them, then
# to the ingesters (which flush to S3 and leave the ring) and the compactor, and SIGKILLs what
# is left after CLUSTER_STOP_TIMEOUT; then it stops radosgw and etcd with their stop scripts.
# The server scripts install etcd-server / radosgw ceph-mon ceph-osd from Debian when missing
# (as root, or through sudo); this script installs nothing else.
#
# Ports (B = CLUSTER_BASE_PORT, default 31000; everything binds 127.0.0.1 only):
#   B+0             etcd client URL           B+1        etcd peer URL
#   B+10            S3 (radosgw)              B+11       ceph-mon   B+12..B+22  ceph-osd
#   role            #   HTTP (B+30+#)  gRPC (B+40+#)   default HTTP / gRPC
#   compactor       0   B+30           B+40            31030 / 31040
#   ingester-1..3   1-3 B+31..B+33     B+41..B+43      31031-31033 / 31041-31043
#   distributor-1,2 4-5 B+34, B+35     B+44, B+45      31034, 31035 / 31044, 31045
#   querier-1,2     6-7 B+36, B+37     B+46, B+47      31036, 31037 / 31046, 31047
#   query-frontend  8   B+38           B+48            31038 / 31048
#   ingester-4      9   B+39           B+49            31039 / 31049  (CLUSTER_SPARE_INGESTER=1)
# Keep B+48 below the ephemeral port range (/proc/sys/net/ipv4/ip_local_port_range, usually
# 32768-60999) and away from the test suite's fixed ports (17379-17380, 17480-17512).
#
# Files under DIR:
#   cluster.env        PUSH_URL, PUSH_URL_2, QUERY_URL, S3_*, ETCD_ENDPOINT, <ROLE>_URL, ...:
#                      written (and printed) by `up` once every role is ready, removed by `down`
#   .base-port         the CLUSTER_BASE_PORT of `up` (what `status` and `restart` use)
#   pids/<name>.pid    one per process (rgw.pid is radosgw's; stop-ceph-rgw.sh DIR/rgw stops it
#                      together with its ceph-mon and ceph-osd, from DIR/rgw/run/*.pidf)
#   logs/<name>.log    each role's log (etcd.log and rgw.log link to the servers' own logs)
#   data/<name>        each role's -common.path-prefix (WAL, ...)
#   etcd/, rgw/        the servers' directories
#   bin/skald          the binary the roles run: a copy of SKALD_BIN taken by `up`, so a rebuild
#                      while the cluster runs does not change (or break) it
# Data survives down/up; `rm -rf DIR` after `down` starts from nothing.
#
# Environment:
#   SKALD_BIN              skald binary (default <repo>/build/release/skald; `make build` makes it)
#   CLUSTER_BASE_PORT      B above (default 31000)
#   CLUSTER_ROLES          which roles `up` starts (default
#                          "compactor ingester distributor querier query-frontend")
#   CLUSTER_EXTRA_ARGS     more flags for every Skald role (e.g. "-log.level=debug")
#   CLUSTER_SPARE_INGESTER 1: also start ingester-4 (to watch it take over a dead one's streams)
#   CLUSTER_READY_TIMEOUT  seconds `up`/`restart` wait for /ready (default 90)
#   CLUSTER_STOP_TIMEOUT   seconds a role gets to exit after SIGTERM before SIGKILL (default 60)
#   S3_BUCKET (default skald), S3_ACCESS_KEY, S3_SECRET: passed to start-ceph-rgw.sh
#
# Exit status: 0 on success; `up` exits 1 if a cluster already runs in DIR; `status` exits 0
# when every started process runs (and every Skald role is ready), 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVERS=$ROOT/scripts/servers
READY_TIMEOUT=${CLUSTER_READY_TIMEOUT:-90}
STOP_TIMEOUT=${CLUSTER_STOP_TIMEOUT:-60}
ALL_TARGETS="compactor ingester distributor querier query-frontend"
# Every Skald process; its index in this list gives its ports (see the table above).
NAMES=(compactor ingester-1 ingester-2 ingester-3 distributor-1 distributor-2
  querier-1 querier-2 query-frontend ingester-4)

log() { echo "local-cluster: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $0 up DIR | down DIR | status DIR | restart DIR NAME

  up DIR            start etcd, radosgw and the Skald roles (compactor, ingester-1..3,
                    distributor-1..2, querier-1..2, query-frontend); write DIR/cluster.env
  down DIR          stop everything started in DIR (Skald roles by SIGTERM, then S3, etcd)
  status DIR        show each process, its pid and its /ready answer
  restart DIR NAME  stop and start one Skald role (e.g. ingester-2) with the same flags

env: SKALD_BIN, CLUSTER_BASE_PORT (31000), CLUSTER_ROLES, CLUSTER_EXTRA_ARGS,
     CLUSTER_READY_TIMEOUT (90), CLUSTER_STOP_TIMEOUT (60), S3_BUCKET, S3_ACCESS_KEY, S3_SECRET
(the header of this script has the port layout and the files)
EOF
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Layout

set_ports() {  # set_ports BASE
  BASE=$1
  case $BASE in '' | *[!0-9]*) die "CLUSTER_BASE_PORT must be a number (got '$BASE')" ;; esac
  if [ "$BASE" -lt 1024 ] || [ "$BASE" -gt 65487 ]; then
    die "CLUSTER_BASE_PORT $BASE: the cluster uses ports BASE..BASE+48 (pick 1024..65487)"
  fi
  ETCD_PORT=$BASE
  RGW_PORT=$((BASE + 10))
}

role_index() {
  local i
  for i in "${!NAMES[@]}"; do
    if [ "${NAMES[$i]}" = "$1" ]; then echo "$i"; return 0; fi
  done
  return 1
}
http_port() { echo $((BASE + 30 + $(role_index "$1"))); }
grpc_port() { echo $((BASE + 40 + $(role_index "$1"))); }
target_of() {  # ingester-2 -> ingester; query-frontend stays
  case $1 in
    query-frontend) echo query-frontend ;;
    *) echo "${1%-[0-9]*}" ;;
  esac
}
env_name() { local n=${1^^}; echo "${n//-/_}"; }  # ingester-2 -> INGESTER_2

check_roles() {
  local t
  for t in ${CLUSTER_ROLES:-$ALL_TARGETS}; do
    case " $ALL_TARGETS " in
      *" $t "*) ;;
      *) die "CLUSTER_ROLES: unknown role '$t' (roles: $ALL_TARGETS)" ;;
    esac
  done
}

# The roles CLUSTER_ROLES selects, in start order.
selected_names() {
  local n
  for n in "${NAMES[@]}"; do
    # ingester-4 is a spare, started only with CLUSTER_SPARE_INGESTER=1.
    if [ "$n" = ingester-4 ] && [ "${CLUSTER_SPARE_INGESTER:-0}" != 1 ]; then continue; fi
    case " ${CLUSTER_ROLES:-$ALL_TARGETS} " in *" $(target_of "$n") "*) echo "$n" ;; esac
  done
}

# DIR as an absolute path (created by `up` only).
resolve_dir() {  # resolve_dir DIR create?
  if [ "$2" = create ]; then mkdir -p "$1"; fi
  [ -d "$1" ] || return 1
  DIR=$(cd "$1" && pwd)
  PIDS=$DIR/pids
  LOGS=$DIR/logs
  ENV_FILE=$DIR/cluster.env
}

env_value() {  # env_value KEY: its value in DIR/cluster.env
  [ -f "$ENV_FILE" ] || return 0
  sed -n "/^$1=/{s/^$1=//p;q}" "$ENV_FILE"
}

# The base port of the cluster in DIR: the one `up` used, else CLUSTER_BASE_PORT.
load_ports() {
  local b=""
  if [ -s "$DIR/.base-port" ]; then b=$(cat "$DIR/.base-port"); fi
  if [ -n "$b" ] && [ -n "${CLUSTER_BASE_PORT:-}" ] && [ "$b" != "$CLUSTER_BASE_PORT" ]; then
    log "note: $DIR was started with CLUSTER_BASE_PORT=$b; using that"
  fi
  set_ports "${b:-${CLUSTER_BASE_PORT:-31000}}"
}

# ---------------------------------------------------------------------------------------------
# Processes

# The string that identifies a process of this cluster in its command line (a pid alone may
# have been reused by an unrelated process).
marker() {
  case $1 in
    etcd) echo "$DIR/etcd" ;;
    rgw) echo "$DIR/rgw/" ;;
    *) echo "-common.path-prefix=$DIR/data/$1 " ;;
  esac
}

pid_of() {  # pid_of NAME: the recorded pid, or nothing
  local f=$PIDS/$1.pid
  # etcd's and radosgw's own pid files (DIR/pids has copies): right even if `up` was
  # interrupted between a server script and the copy
  case $1 in
    etcd) f=$DIR/etcd/etcd.pid ;;
    rgw) f=$DIR/rgw/run/rgw.pidf ;;
  esac
  if [ -s "$f" ]; then cat "$f"; fi
}

# alive NAME: its recorded process runs and is ours (a zombie has an empty command line).
alive() { pid_is "$1" "$(pid_of "$1")"; }
pid_is() {  # pid_is NAME PID: PID runs and is a process of NAME
  local p=$2 cmdline
  [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$(marker "$1")"* ]]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ready_answer NAME: "<http code> <first line of the body>" of GET /ready ("000" = no answer).
ready_answer() {
  local out code body
  out=$(curl -s -m 2 -w '\n%{http_code}' "http://127.0.0.1:$(http_port "$1")/ready" 2>/dev/null) || true
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  [ "$body" = "$out" ] && body=""
  body=${body%%$'\n'*}
  if [ "${code:-000}" = 000 ]; then echo "000 (no answer)"; else echo "$code ${body:0:70}"; fi
}

skald_flags() {  # skald_flags NAME: every flag of that role, one a line
  local name=$1 target
  target=$(target_of "$name")
  cat <<EOF
-target=$target
-common.path-prefix=$DIR/data/$name
-server.http-listen-address=127.0.0.1
-server.http-listen-port=$(http_port "$name")
-server.grpc-listen-address=127.0.0.1
-server.grpc-listen-port=$(grpc_port "$name")
-ring.store=etcd
-etcd.endpoints=127.0.0.1:$ETCD_PORT
-distributor.replication-factor=3
-ingester.lifecycler.ID=$name
-ingester.heartbeat-period=1s
-ring.heartbeat-timeout=10s
-common.storage.s3.endpoint=http://127.0.0.1:$RGW_PORT
-common.storage.s3.force-path-style=true
-common.storage.s3.region=us-east-1
-common.storage.s3.buckets=$S3_BUCKET_NAME
-common.storage.s3.access-key-id=$S3_AK
-common.storage.s3.secret-access-key=$S3_SK
EOF
  if [ "$target" = querier ]; then
    echo "-querier.frontend-address=127.0.0.1:$(grpc_port query-frontend)"
  fi
}

extra_flags() {
  local extra=()
  read -r -a extra <<<"${CLUSTER_EXTRA_ARGS:-}"
  if [ ${#extra[@]} -gt 0 ]; then printf '%s\n' "${extra[@]}"; fi
}

# Fails (before anything starts) when the binary lacks a flag the selected roles need.
check_flags() {  # check_flags BIN NAME...
  local bin=$1 help name flag
  local -A missing=()
  shift
  help=$("$bin" -help 2>&1) || true
  for name in "$@"; do
    while IFS= read -r flag; do
      flag=${flag%%=*}
      if ! grep -qE -- "^  ${flag//./\\.}( |$)" <<<"$help"; then
        missing[$flag]="${missing[$flag]:-} $name"
      fi
    done < <(skald_flags "$name")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "$bin does not know these flags (needed by):"
    for flag in "${!missing[@]}"; do echo "  $flag (${missing[$flag]# })"; done >&2
    die "rebuild it (make build), or leave those roles out: CLUSTER_ROLES=\"compactor ingester distributor\""
  fi
}

launch() {  # launch NAME: start one Skald role in the background, record its pid
  local name=$1 flags=() hp gp p
  mapfile -t flags < <(skald_flags "$name"; extra_flags)
  mkdir -p "$DIR/data/$name"
  hp=$(http_port "$name"); gp=$(grpc_port "$name")
  for p in "$hp" "$gp"; do
    if port_in_use "$p"; then die "port $p (for $name) on 127.0.0.1 is already in use"; fi
  done
  touch "$LOGS/$name.log"
  LOG_START[$name]=$(stat -c %s "$LOGS/$name.log")  # the log is appended to across runs
  {
    echo "=== $(date -u +%FT%TZ) local-cluster.sh starting $name"
    echo "=== $DIR/bin/skald ${flags[*]}" | sed 's/\(secret-access-key=\)[^ ]*/\1***/'
  } >>"$LOGS/$name.log"
  setsid "$DIR/bin/skald" "${flags[@]}" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
  log "started $name (pid $!, http $hp, grpc $gp)"
}

declare -A LOG_START=()
log_tail() {  # the end of what NAME logged since launch() started it
  tail -c +$((${LOG_START[$1]:-0} + 1)) "$LOGS/$1.log" | tail -n 25 | sed 's/^/  | /' >&2
}

# wait_ready NAME...: until each answers 200 on /ready; fails naming the first one that died or
# every one still not ready at the deadline, with the end of its log.
wait_ready() {
  local pending=("$@") left=() name ans deadline
  deadline=$(($(date +%s) + READY_TIMEOUT))
  declare -A last=()
  while [ ${#pending[@]} -gt 0 ]; do
    left=()
    for name in "${pending[@]}"; do
      if ! alive "$name"; then
        log "$name exited before it got ready; last lines of $LOGS/$name.log:"
        log_tail "$name"
        return 1
      fi
      ans=$(ready_answer "$name")
      if [ "${ans%% *}" = 200 ]; then
        log "$name ready"
      else
        last[$name]=$ans
        left+=("$name")
      fi
    done
    pending=("${left[@]+"${left[@]}"}")
    [ ${#pending[@]} -eq 0 ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      for name in "${pending[@]}"; do
        log "$name did not get ready within ${READY_TIMEOUT}s (last /ready answer: ${last[$name]}); last lines of $LOGS/$name.log:"
        log_tail "$name"
      done
      return 1
    fi
    sleep 0.25
  done
}

# stop_group NAME...: SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL; removes the pid files.
# Prints how many processes it stopped.
stop_group() {
  local name running=() left=() deadline n=0
  for name in "$@"; do
    if alive "$name"; then
      kill -TERM "$(pid_of "$name")" 2>/dev/null || true
      running+=("$name")
      n=$((n + 1))
    fi
  done
  if [ ${#running[@]} -gt 0 ]; then
    log "stopping ${running[*]} (SIGTERM)"
    deadline=$(($(date +%s) + STOP_TIMEOUT))
    while :; do
      left=()
      for name in "${running[@]}"; do if alive "$name"; then left+=("$name"); fi; done
      [ ${#left[@]} -eq 0 ] && break
      if [ "$(date +%s)" -ge "$deadline" ]; then
        for name in "${left[@]}"; do
          log "$name did not exit within ${STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
          kill -KILL "$(pid_of "$name")" 2>/dev/null || true
        done
        for _ in $(seq 1 50); do
          left=()
          for name in "${running[@]}"; do if alive "$name"; then left+=("$name"); fi; done
          [ ${#left[@]} -eq 0 ] && break
          sleep 0.1
        done
        break
      fi
      sleep 0.2
    done
  fi
  for name in "$@"; do rm -f "$PIDS/$name.pid"; done
  echo "$n"
}

# Stops everything of the cluster in DIR; prints the number of processes stopped.
stop_all() {
  local n=0 m
  # First what takes requests, so no push reaches an ingester while it flushes; then the
  # ingesters (they flush to S3 and leave the ring: S3 and etcd must still run) and the compactor.
  m=$(stop_group query-frontend querier-1 querier-2 distributor-1 distributor-2); n=$((n + m))
  m=$(stop_group ingester-1 ingester-2 ingester-3 ingester-4 compactor); n=$((n + m))
  if alive rgw || [ -s "$DIR/rgw/run/mon.pidf" ] || [ -s "$DIR/rgw/run/osd.pidf" ]; then
    if alive rgw; then n=$((n + 1)); fi
    log "stopping radosgw, ceph-osd, ceph-mon (stop-ceph-rgw.sh)"
    bash "$SERVERS/stop-ceph-rgw.sh" "$DIR/rgw" || log "stop-ceph-rgw.sh failed"
  fi
  rm -f "$PIDS/rgw.pid"
  if alive etcd; then
    n=$((n + 1))
    log "stopping etcd (stop-etcd.sh)"
    bash "$SERVERS/stop-etcd.sh" "$DIR/etcd" || log "stop-etcd.sh failed"
  fi
  rm -f "$PIDS/etcd.pid"
  echo "$n"
}

running_names() {  # every process of DIR that runs now
  local name
  for name in etcd rgw "${NAMES[@]}"; do
    if alive "$name"; then echo "$name"; fi
  done
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_up() {
  resolve_dir "$1" create
  set_ports "${CLUSTER_BASE_PORT:-31000}"
  local names=() running=() name p
  check_roles
  mapfile -t names < <(selected_names)
  [ ${#names[@]} -gt 0 ] || die "CLUSTER_ROLES selects no role"

  mkdir -p "$PIDS" "$LOGS" "$DIR/data" "$DIR/bin"
  mapfile -t running < <(running_names)
  if [ ${#running[@]} -gt 0 ]; then
    log "a cluster is already running in $DIR (${running[*]}); see: $0 status $DIR"
    die "run '$0 down $DIR' first"
  fi
  rm -f "$PIDS"/*.pid "$ENV_FILE"  # from an earlier run
  echo "$BASE" >"$DIR/.base-port"

  local bin=${SKALD_BIN:-$ROOT/build/release/skald}
  [ -f "$bin" ] || die "no skald binary at $bin: build it with 'make build' (or set SKALD_BIN)"
  [ -x "$bin" ] || die "$bin is not executable"
  "$bin" -version >/dev/null 2>&1 ||
    die "$bin does not run (being rebuilt? retry in a minute, or run 'make build')"
  # Ports of the Skald roles first: cheaper to fail before etcd and Ceph start.
  for name in "${names[@]}"; do
    for p in $(http_port "$name") $(grpc_port "$name"); do
      if port_in_use "$p"; then
        die "port $p (for $name) on 127.0.0.1 is already in use; pick another CLUSTER_BASE_PORT"
      fi
    done
  done
  S3_BUCKET_NAME=${S3_BUCKET:-skald} S3_AK=x S3_SK=x check_flags "$bin" "${names[@]}"
  cp -f "$bin" "$DIR/bin/skald.tmp" && mv -f "$DIR/bin/skald.tmp" "$DIR/bin/skald"

  # From here on, a failure (or Ctrl-C) stops what was started.
  UP_DONE=0
  trap 'up_failed' EXIT
  trap 'exit 130' INT TERM

  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  bash "$SERVERS/start-etcd.sh" "$DIR/etcd" "$ETCD_PORT" >/dev/null
  cp "$DIR/etcd/etcd.pid" "$PIDS/etcd.pid"
  ln -sfn ../etcd/etcd.log "$LOGS/etcd.log"

  log "starting Ceph radosgw on 127.0.0.1:$RGW_PORT (ports $RGW_PORT-$((RGW_PORT + 12)))"
  bash "$SERVERS/start-ceph-rgw.sh" "$DIR/rgw" "$RGW_PORT" "${S3_BUCKET:-skald}" >/dev/null
  cp "$DIR/rgw/run/rgw.pidf" "$PIDS/rgw.pid"
  ln -sfn ../rgw/log/client.rgw.a.log "$LOGS/rgw.log"
  local s3env=$DIR/rgw/s3.env
  S3_BUCKET_NAME=$(sed -n 's/^S3_BUCKET=//p' "$s3env")
  S3_AK=$(sed -n 's/^S3_ACCESS_KEY=//p' "$s3env")
  S3_SK=$(sed -n 's/^S3_SECRET_KEY=//p' "$s3env")

  for name in "${names[@]}"; do launch "$name"; done
  wait_ready "${names[@]}" || exit 1

  write_env "${names[@]}"
  grep -v '^#' "$ENV_FILE"
  UP_DONE=1
  trap - EXIT INT TERM
  log "cluster is up: $0 status $DIR; stop it with: $0 down $DIR"
}

up_failed() {
  local rc=$?
  if [ "${UP_DONE:-1}" = 1 ]; then return; fi
  trap - EXIT INT TERM
  log "up failed; stopping what it started"
  stop_all >/dev/null || true
  exit $((rc == 0 ? 1 : rc))
}

write_env() {  # write_env NAME...: DIR/cluster.env for the started roles
  local name started=" $* "
  {
    echo "# local Skald cluster ($0 up $DIR); stop: $0 down $DIR"
    case $started in *" distributor-1 "*)
      echo "PUSH_URL=http://127.0.0.1:$(http_port distributor-1)/loki/api/v1/push" ;; esac
    case $started in *" distributor-2 "*)
      echo "PUSH_URL_2=http://127.0.0.1:$(http_port distributor-2)/loki/api/v1/push" ;; esac
    case $started in *" query-frontend "*)
      echo "QUERY_URL=http://127.0.0.1:$(http_port query-frontend)" ;; esac
    echo "S3_ENDPOINT=http://127.0.0.1:$RGW_PORT"
    echo "S3_BUCKET=$S3_BUCKET_NAME"
    echo "S3_ACCESS_KEY=$S3_AK"
    echo "S3_SECRET=$S3_SK"
    echo "S3_REGION=us-east-1"
    echo "ETCD_ENDPOINT=127.0.0.1:$ETCD_PORT"
    for name in "$@"; do
      echo "$(env_name "$name")_URL=http://127.0.0.1:$(http_port "$name")"
      echo "$(env_name "$name")_GRPC=127.0.0.1:$(grpc_port "$name")"
    done
    echo "CLUSTER_DIR=$DIR"
    echo "CLUSTER_BASE_PORT=$BASE"
  } >"$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

cmd_down() {
  if ! resolve_dir "$1" nocreate; then
    log "nothing was running ($1 does not exist)"
    return 0
  fi
  load_ports
  local n
  n=$(stop_all)
  if head -n 1 "$ENV_FILE" 2>/dev/null | grep -q '^# local Skald cluster'; then rm -f "$ENV_FILE"; fi
  if [ "$n" -eq 0 ]; then log "nothing was running in $DIR"; else log "stopped $n process(es)"; fi
}

cmd_status() {
  resolve_dir "$1" nocreate || die "$1 does not exist"
  load_ports
  local name pid ans ok=0 any=0 d
  printf '%-15s %-8s %-11s %s\n' NAME PID STATE READY
  row() { printf '%-15s %-8s %-11s %s\n' "$@"; }
  pid=$(pid_of etcd)
  if alive etcd; then
    any=1
    ans=$(curl -s -m 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null || true)
    row etcd "$pid" running "/health ${ans:-no answer}"
    case $ans in *'"health":"true"'*) ;; *) ok=1 ;; esac
  else
    row etcd "${pid:--}" stopped -; ok=1
  fi
  for d in mon osd; do  # radosgw's helpers (their pids are kept by start-ceph-rgw.sh)
    pid=""
    if [ -s "$DIR/rgw/run/$d.pidf" ]; then pid=$(cat "$DIR/rgw/run/$d.pidf"); fi
    if pid_is rgw "$pid"; then row "rgw-$d" "$pid" running -; else row "rgw-$d" "${pid:--}" stopped -; ok=1; fi
  done
  pid=$(pid_of rgw)
  if alive rgw; then
    any=1
    ans=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/" 2>/dev/null || true)
    row rgw "$pid" running "S3 GET / -> ${ans:-000}"
    [ "$ans" = 200 ] || ok=1
  else
    row rgw "${pid:--}" stopped -; ok=1
  fi
  for name in "${NAMES[@]}"; do
    pid=$(pid_of "$name")
    if alive "$name"; then
      any=1
      ans=$(ready_answer "$name")
      row "$name" "$pid" running "$ans"
      [ "${ans%% *}" = 200 ] || ok=1
    elif [ -n "$pid" ]; then
      row "$name" "$pid" stopped -; ok=1
    else
      row "$name" - "not started" -
    fi
  done
  [ $any = 1 ] || return 1
  return $ok
}

cmd_restart() {
  local name=$2
  role_index "$name" >/dev/null || die "restart: '$name' is not a Skald role (${NAMES[*]})"
  resolve_dir "$1" nocreate || die "$1 does not exist"
  [ -f "$ENV_FILE" ] || die "no $ENV_FILE: start the cluster with '$0 up $DIR'"
  load_ports
  alive etcd || die "etcd of $DIR is not running; run '$0 up $DIR'"
  alive rgw || die "radosgw of $DIR is not running; run '$0 up $DIR'"
  [ -x "$DIR/bin/skald" ] || die "no $DIR/bin/skald"
  S3_BUCKET_NAME=$(env_value S3_BUCKET)
  S3_AK=$(env_value S3_ACCESS_KEY)
  S3_SK=$(env_value S3_SECRET)
  stop_group "$name" >/dev/null
  launch "$name"
  wait_ready "$name" || die "$name did not come back; see $LOGS/$name.log"
}

[ $# -ge 2 ] || usage
cmd=$1
case $cmd in
  up) [ $# -eq 2 ] || usage; cmd_up "$2" ;;
  down) [ $# -eq 2 ] || usage; cmd_down "$2" ;;
  status) [ $# -eq 2 ] || usage; cmd_status "$2" ;;
  restart) [ $# -eq 3 ] || usage; cmd_restart "$2" "$3" ;;
  *) usage ;;
esac
