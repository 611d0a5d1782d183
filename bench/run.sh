#!/usr/bin/env bash
# Side-by-side benchmark of Portico, nginx and HAProxy as reverse proxies in front of one nginx backend, all on
# 127.0.0.1. See bench/README.md for what is measured and why it is fair.
#
#   bench/run.sh                                       # the full run (about 9 minutes on 2 cores)
#   DURATION=2 ROUNDS=1 IDLE_CONNS=2000 bench/run.sh   # a smoke run (about 1.5 minutes)
#
# Writes $RESULTS_DIR/<date>.md (default bench/results/) and keeps every raw wrk output in $RESULTS_DIR/<date>.raw/.
# Installs nginx, haproxy and wrk with apt-get when they are missing. Needs root only for that.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")

# ---- knobs (environment) ----------------------------------------------------------------------------------------
DURATION=${DURATION:-10}            # seconds of each measured wrk run (phases 1-4)
ROUNDS=${ROUNDS:-3}                 # rounds of each phase; targets interleaved within a round
WARM_DURATION=${WARM_DURATION:-10}  # seconds of wrk right after a fresh start (start-up phase)
CONNS=${CONNS:-50}                  # connections in phases 1, 4 and the start-up phase
CONNS_HIGH=${CONNS_HIGH:-256}       # connections in phase 2
LARGE_CONNS=${LARGE_CONNS:-50}      # connections in phase 3 (/large)
IDLE_CONNS=${IDLE_CONNS:-10000}     # idle keep-alive connections held open in phase 5
TARGETS=${TARGETS:-nginx haproxy portico}
CPU_PROXY=${CPU_PROXY:-0}           # the core the proxies run on
CPU_LOAD=${CPU_LOAD:-1}             # the core wrk and the backend run on (except in phase 4)
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}     # 1: do not apt-get install missing tools
SKIP_BUILD=${SKIP_BUILD:-0}         # 1: use target/portico.jar as it is

COMMAND="DURATION=$DURATION ROUNDS=$ROUNDS WARM_DURATION=$WARM_DURATION CONNS=$CONNS CONNS_HIGH=$CONNS_HIGH"
COMMAND+=" LARGE_CONNS=$LARGE_CONNS IDLE_CONNS=$IDLE_CONNS TARGETS=\"$TARGETS\" CPU_PROXY=$CPU_PROXY"
COMMAND+=" CPU_LOAD=$CPU_LOAD${JAVA_OPTS:+ JAVA_OPTS=\"$JAVA_OPTS\"} bench/run.sh"

log() { printf '%s [bench] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

read -r -a TARGET_LIST <<< "$TARGETS"
for t in "${TARGET_LIST[@]}"; do
    case $t in nginx|haproxy|portico) ;; *) die "unknown target '$t' (nginx, haproxy, portico)" ;; esac
done
T_START=$SECONDS
# The system interpreter starts in a tenth of the time of a version-manager shim; tools.py needs nothing else.
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || echo python3)}

# ---- tools ------------------------------------------------------------------------------------------------------
install_missing() {
    local need=() c
    for c in nginx haproxy wrk; do command -v "$c" >/dev/null || need+=("$c"); done
    command -v python3 >/dev/null || need+=(python3)
    command -v ss >/dev/null || need+=(iproute2)
    command -v taskset >/dev/null || need+=(util-linux)
    command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
    command -v mvn >/dev/null || need+=(maven)
    (( ${#need[@]} )) || return 0
    (( SKIP_INSTALL == 0 )) || die "missing: ${need[*]} (SKIP_INSTALL=1)"
    log "installing ${need[*]}"
    apt-get update -q >/dev/null
    # Debian starts the packaged nginx/haproxy services where an init system runs; the benchmark neither uses
    # nor touches them (its servers have their own configs, ports and pid files).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
}
install_missing

if (( $(nproc) < 2 )); then
    log "warning: one core only: proxies, wrk and backend all share cpu 0"
    CPU_LOAD=$CPU_PROXY
fi

if (( SKIP_BUILD == 0 )); then
    log "building Portico (mvn -B -q -DskipTests package)"
    build_log=$(mktemp /tmp/portico-bench-build.XXXXXX)
    if ! (cd "$ROOT" && mvn -B -q -DskipTests -Dstyle.color=never package) > "$build_log" 2>&1; then
        tail -40 "$build_log" >&2
        die "build failed (full log: $build_log)"
    fi
    rm -f "$build_log"
fi
[[ -r $ROOT/target/portico.jar ]] || die "target/portico.jar missing"

# ---- work area, process tracking, clean-up ------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/portico-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as nobody and read the backend's files
RAW=$WORK/raw
METRICS=$WORK/metrics.tsv
mkdir -p "$RAW" "$WORK/www" "$WORK/backend" "$WORK/nginx" "$WORK/haproxy" "$WORK/portico"
: > "$METRICS"
PIDS=()          # every server this script started and has not stopped yet
# Open files: every server inherits this limit. Raise the hard limit where allowed (root outside a container).
ulimit -Hn 1048576 2>/dev/null || true
NOFILE=$(ulimit -Hn)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
(( NOFILE > 1048576 )) && NOFILE=1048576
ulimit -n "$NOFILE"
# HAProxy reserves two descriptors per connection and refuses to start if maxconn does not fit; nginx counts
# client and backend connections in worker_connections.
MAXCONN=$(( (NOFILE - 100) / 2 )); (( MAXCONN > 30000 )) && MAXCONN=30000
WORKER_CONNECTIONS=$(( NOFILE - 100 )); (( WORKER_CONNECTIONS > 60000 )) && WORKER_CONNECTIONS=60000
if (( IDLE_CONNS > MAXCONN - 100 )); then
    capped=$(( (MAXCONN - 100) / 500 * 500 ))
    log "warning: open-file limit $NOFILE: phase 5 holds $capped connections, not $IDLE_CONNS (raise ulimit -Hn)"
    IDLE_CONNS=$capped
fi

gone() {  # gone PID: true once the process has exited (a zombie counts: it is about to be reaped)
    local s
    s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [[ -z $s || $s == Z ]]
}

stop_pid() {  # stop_pid PID: SIGTERM the process and its children, SIGKILL whatever is left after 15 s
    local pid=$1 all p i
    all=$("$PY" "$BENCH/tools.py" descendants "$pid" 2>/dev/null || echo "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    for (( i = 0; i < 150; i++ )); do
        local alive=0
        for p in $all; do gone "$p" || alive=1; done
        (( alive )) || break
        sleep 0.1
    done
    for p in $all; do
        gone "$p" || { log "killing $p (no exit after SIGTERM)"; kill -KILL "$p" 2>/dev/null || true; }
    done
    local keep=()
    for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for (( i = ${#PIDS[@]} - 1; i >= 0; i-- )); do stop_pid "${PIDS[i]}"; done
    wait 2>/dev/null || true  # the launchers, which exit with their servers
    if (( rc == 0 )); then
        rm -rf "$WORK"
    else
        log "failed (exit $rc); logs kept in $WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- ports and configs --------------------------------------------------------------------------------------------
USED_PORTS=" "
PICKED=
pick_port() {  # sets PICKED to a free port in 20000-31999 (below the ephemeral range) no TCP socket uses now
    local p
    while :; do
        p=$(( 20000 + RANDOM % 12000 ))
        [[ $USED_PORTS == *" $p "* ]] && continue
        ss -Htan | awk -v p=":$p" '$4 ~ p"$" { used = 1 } END { exit used }' || continue
        USED_PORTS+="$p "
        PICKED=$p
        return
    done
}
declare -A PORT PID
pick_port; BACKEND_PORT=$PICKED
for t in "${TARGET_LIST[@]}"; do pick_port; PORT[$t]=$PICKED; done
PORT[direct]=$BACKEND_PORT

render() {  # render TEMPLATE OUT PROXY_PORT
    sed -e "s|@WORK@|$WORK|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@PROXY_PORT@|${3:-0}|g" \
        -e "s|@NOFILE@|$NOFILE|g" -e "s|@MAXCONN@|$MAXCONN|g" -e "s|@WORKER_CONNECTIONS@|$WORKER_CONNECTIONS|g" \
        "$1" > "$2"
}

STARTS=0
start_server() {  # start_server NAME CPU: starts it fresh; sets PID[NAME] and READY_MS
    local name=$1 cpu=$2 out err ready cmd
    STARTS=$(( STARTS + 1 ))
    out=$WORK/$name/stdout.$STARTS.log
    err=$WORK/$name/stderr.$STARTS.log
    case $name in
        backend)
            render "$BENCH/conf/backend-nginx.conf" "$WORK/backend/nginx.conf"
            cmd=(nginx -p "$WORK/backend/" -e "$WORK/backend/error.log" -c "$WORK/backend/nginx.conf")
            ready=(--port "$BACKEND_PORT") ;;
        nginx)
            render "$BENCH/conf/nginx.conf" "$WORK/nginx/nginx.conf" "${PORT[nginx]}"
            cmd=(nginx -p "$WORK/nginx/" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf")
            ready=(--port "${PORT[nginx]}") ;;
        haproxy)
            render "$BENCH/conf/haproxy.cfg" "$WORK/haproxy/haproxy.cfg" "${PORT[haproxy]}"
            cmd=(haproxy -db -f "$WORK/haproxy/haproxy.cfg")
            ready=(--port "${PORT[haproxy]}") ;;
        portico)
            render "$BENCH/conf/portico.yaml" "$WORK/portico/portico.yaml" "${PORT[portico]}"
            cmd=("$ROOT/bin/portico" --config "$WORK/portico/portico.yaml")
            # Portico is ready when it says so: "listening on HOST:PORT" on stderr, logged once bound.
            ready=(--log-pattern "listening on" --log-pattern-file "$err") ;;
    esac
    # The launcher starts the server, times it to ready, prints "PID MS" and stays its parent until it exits.
    local report=$WORK/launch.$STARTS launcher line=
    : > "$report"
    "$PY" "$BENCH/tools.py" launch --out "$out" --err "$err" "${ready[@]}" -- taskset -c "$cpu" "${cmd[@]}" \
        > "$report" &
    launcher=$!
    while [[ -z $line ]]; do
        read -r line < "$report" || true
        [[ -n $line ]] || ! gone "$launcher" || die "$name did not start (see $err)"
        sleep 0.02
    done
    read -r "PID[$name]" READY_MS <<< "$line"
    PIDS+=("${PID[$name]}")
}

check_alive() {
    local t
    for t in "$@"; do gone "${PID[$t]}" && die "$t (pid ${PID[$t]}) died; logs in $WORK/$t"; done
    return 0
}

metric() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$METRICS"; }  # phase target round name value
rss_of() { "$PY" "$BENCH/tools.py" rss "${PID[$1]}"; }

wrk_run() {  # wrk_run FILE CPU CONNS SECONDS PORT PATH
    taskset -c "$2" wrk -t1 -c"$3" -d"$4"s --latency "http://127.0.0.1:$5$6" > "$RAW/$1.txt" 2>&1 \
        || log "wrk exited non-zero for $1"
}

rotated() {  # rotated ROUND ITEMS...: the items rotated left by ROUND-1, so no target is always first
    local r=$1; shift
    local items=("$@") n=$# i
    for (( i = 0; i < n; i++ )); do echo "${items[(i + r - 1) % n]}"; done
}

# ---- the backend ----------------------------------------------------------------------------------------------
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/www/small"
head -c 1048576 /dev/urandom > "$WORK/www/large"
start_server backend "$CPU_LOAD"
log "backend nginx on 127.0.0.1:$BACKEND_PORT (pid ${PID[backend]}); targets: ${TARGET_LIST[*]}"
"$PY" "$BENCH/tools.py" check --port "$BACKEND_PORT" --path /small --size 1024 || die "backend check failed"

# ---- Portico's configuration and class-data-sharing archive ----------------------------------------------------
if [[ " ${TARGET_LIST[*]} " == *" portico "* ]]; then
    render "$BENCH/conf/portico.yaml" "$WORK/portico/portico.yaml" "${PORT[portico]}"
    "$ROOT/bin/portico" --check --config "$WORK/portico/portico.yaml" >/dev/null \
        || die "Portico rejects bench/conf/portico.yaml (see above)"
fi

# bin/portico writes target/portico.jsa when a run exits without a current one; one training run (with a few
# requests) before the measurements, so every measured start of Portico uses the same archive.
if [[ " ${TARGET_LIST[*]} " == *" portico "* ]] && [[ ! $ROOT/target/portico.jsa -nt $ROOT/target/portico.jar ]]; then
    log "creating Portico's CDS archive (one training run)"
    start_server portico "$CPU_PROXY"
    wrk_run cds-training "$CPU_LOAD" 10 1 "${PORT[portico]}" /small
    stop_pid "${PID[portico]}"
    [[ -s $ROOT/target/portico.jsa ]] || log "warning: no CDS archive was written"
fi

# ---- start-up: time to ready, RSS at start, throughput over the first seconds ------------------------------------
# Each round starts every proxy fresh and loads it at once; the last round's processes stay up for phases 1-5
# (those 10 s of load are their warm-up).
log "start-up phase: $ROUNDS rounds x ${#TARGET_LIST[@]} fresh starts, ${WARM_DURATION}s of load each"
for (( r = 1; r <= ROUNDS; r++ )); do
    for t in $(rotated "$r" "${TARGET_LIST[@]}"); do
        start_server "$t" "$CPU_PROXY"
        metric start "$t" "$r" ready_ms "$READY_MS"
        metric start "$t" "$r" rss_start_kib "$(rss_of "$t")"
        wrk_run "warm__${t}__r$r" "$CPU_LOAD" "$CONNS" "$WARM_DURATION" "${PORT[$t]}" /small
        check_alive "$t"
        if (( r < ROUNDS )); then stop_pid "${PID[$t]}"; fi
    done
done
for t in "${TARGET_LIST[@]}"; do
    "$PY" "$BENCH/tools.py" check --port "${PORT[$t]}" --path /small --size 1024 || die "$t: /small check failed"
    "$PY" "$BENCH/tools.py" check --port "${PORT[$t]}" --path /large --size 1048576 || die "$t: /large check failed"
    echo "$t $(tr '\0' ' ' < "/proc/${PID[$t]}/cmdline")" >> "$WORK/cmdlines.txt"
done

# ---- phases 1-3: proxy on CPU_PROXY, wrk and backend on CPU_LOAD --------------------------------------------------
phase() {  # phase NAME CONNS PATH [rss]
    local name=$1 conns=$2 path=$3 r t
    log "phase $name: $ROUNDS rounds, -c$conns $path, ${DURATION}s each"
    for (( r = 1; r <= ROUNDS; r++ )); do
        for t in $(rotated "$r" "${TARGET_LIST[@]}"); do
            wrk_run "${name}__${t}__r$r" "$CPU_LOAD" "$conns" "$DURATION" "${PORT[$t]}" "$path"
            check_alive "$t"
            if [[ ${4:-} == rss ]]; then metric "$name" "$t" "$r" rss_after_kib "$(rss_of "$t")"; fi
        done
    done
}
phase p1 "$CONNS" /small
phase p2 "$CONNS_HIGH" /small rss
phase p3 "$LARGE_CONNS" /large

# ---- phase 4: everything on one core --------------------------------------------------------------------------
# The backend moves to CPU_PROXY too; wrk runs there as well, and once directly against the backend, so that the
# proxy's own CPU time per request is 1/proxied_rps - 1/direct_rps.
log "phase p4: $ROUNDS rounds, all on cpu $CPU_PROXY, -c$CONNS /small, ${DURATION}s each (plus direct)"
repin() {  # repin CPU: moves the backend (master, worker, all threads) to CPU
    local p
    for p in $("$PY" "$BENCH/tools.py" descendants "${PID[backend]}"); do taskset -a -p -c "$1" "$p" >/dev/null; done
}
repin "$CPU_PROXY"
for (( r = 1; r <= ROUNDS; r++ )); do
    for t in $(rotated "$r" direct "${TARGET_LIST[@]}"); do
        wrk_run "p4__${t}__r$r" "$CPU_PROXY" "$CONNS" "$DURATION" "${PORT[$t]}" /small
    done
done
repin "$CPU_LOAD"
check_alive "${TARGET_LIST[@]}"

# ---- phase 5: memory with many idle keep-alive connections ------------------------------------------------------
log "phase p5: $IDLE_CONNS idle keep-alive connections per proxy"
for t in "${TARGET_LIST[@]}"; do
    out=$(taskset -c "$CPU_LOAD" "$PY" "$BENCH/tools.py" idle --port "${PORT[$t]}" --n "$IDLE_CONNS" \
        --pids "${PID[$t]}") || log "warning: $t: some idle connections failed: $out"
    echo "$out" > "$RAW/p5__${t}.json"
    check_alive "$t"
done

# ---- stop, collect, report --------------------------------------------------------------------------------------
{
    echo "nproc=$(nproc)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel=$(uname -sr)"
    echo "java=$("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -2 | paste -sd ';' | sed 's/;/; /')"
    echo "nginx=$(nginx -v 2>&1 | sed 's/^nginx version: //')"
    echo "haproxy=$(haproxy -v | head -1 | sed 's/ - https.*//')"
    echo "wrk=$(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//')"
    echo "portico=$("$ROOT/bin/portico" --version 2>&1 | head -1)"
    echo "command=$COMMAND"
    echo "nofile=$NOFILE"
    echo "duration=$DURATION"
    echo "warm_duration=$WARM_DURATION"
    echo "conns=$CONNS"
    echo "conns_high=$CONNS_HIGH"
    echo "large_conns=$LARGE_CONNS"
    echo "date=$(date '+%F %T %Z')"
    while read -r t line; do echo "cmdline_$t=$line"; done < "$WORK/cmdlines.txt"
} > "$WORK/meta.txt"
for t in "${TARGET_LIST[@]}"; do stop_pid "${PID[$t]}"; done
stop_pid "${PID[backend]}"
# Problems the servers logged while under test (Portico: WARN/ERROR lines; nginx: [error] and worse; HAProxy:
# alerts and warnings).
for t in "${TARGET_LIST[@]}"; do
    case $t in
        portico) pattern=' (WARN|ERROR) |Exception in thread|OutOfMemoryError' ;;
        nginx) pattern='\[(error|crit|alert|emerg)\]' ;;
        haproxy) pattern='\[(ALERT|WARNING)\]' ;;
    esac
    cat "$WORK/$t"/stderr.*.log "$WORK/$t/error.log" 2>/dev/null | grep -E "$pattern" > "$WORK/problems.$t" || true
    metric logs "$t" 0 problem_lines "$(wc -l < "$WORK/problems.$t")"
    head -20 "$WORK/problems.$t" > "$RAW/problems__$t.txt"
done
cp "$METRICS" "$WORK/meta.txt" "$RAW/"
for f in "$WORK"/backend/nginx.conf "$WORK"/nginx/nginx.conf "$WORK"/haproxy/haproxy.cfg "$WORK"/portico/portico.yaml; do
    if [[ -f $f ]]; then cp "$f" "$RAW/config__$(basename "$(dirname "$f")").${f##*.}"; fi  # the configs as run
done

DATE=$(date +%F)
mkdir -p "$RESULTS_DIR"
rm -rf "$RESULTS_DIR/$DATE.raw"
cp -r "$RAW" "$RESULTS_DIR/$DATE.raw"
"$PY" "$BENCH/report.py" "$RESULTS_DIR/$DATE.raw" > "$RESULTS_DIR/$DATE.md"
log "done in $(( SECONDS - T_START ))s: $RESULTS_DIR/$DATE.md (raw outputs in $RESULTS_DIR/$DATE.raw/)"
cat "$RESULTS_DIR/$DATE.md"
