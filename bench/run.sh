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

source "$BENCH/lib.sh"

read -r -a TARGET_LIST <<< "$TARGETS"
for t in "${TARGET_LIST[@]}"; do
    case $t in nginx|haproxy|portico) ;; *) die "unknown target '$t' (nginx, haproxy, portico)" ;; esac
done
T_START=$SECONDS

# ---- tools, build, work area, process tracking, clean-up (bench/lib.sh) ---------------------------------------
bench_setup nginx haproxy wrk
if (( IDLE_CONNS > MAXCONN - 100 )); then
    capped=$(( (MAXCONN - 100) / 500 * 500 ))
    log "warning: open-file limit $NOFILE: phase 5 holds $capped connections, not $IDLE_CONNS (raise ulimit -Hn)"
    IDLE_CONNS=$capped
fi

# ---- ports and configs --------------------------------------------------------------------------------------------
pick_port; BACKEND_PORT=$PICKED
for t in "${TARGET_LIST[@]}"; do pick_port; PORT[$t]=$PICKED; done
PORT[direct]=$BACKEND_PORT

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
    record_cmdline "$t"
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
    machine_meta
    echo "duration=$DURATION"
    echo "warm_duration=$WARM_DURATION"
    echo "conns=$CONNS"
    echo "conns_high=$CONNS_HIGH"
    echo "large_conns=$LARGE_CONNS"
    while read -r t line; do echo "cmdline_$t=$line"; done < "$WORK/cmdlines.txt"
} > "$WORK/meta.txt"
for t in "${TARGET_LIST[@]}"; do stop_pid "${PID[$t]}"; done
stop_pid "${PID[backend]}"
finish "$(date +%F)" "${TARGET_LIST[@]}"
