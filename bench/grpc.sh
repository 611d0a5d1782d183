#!/usr/bin/env bash
# Unary gRPC: a grpc-java load generator (GrpcBench, from the test classpath) keeps CONCURRENCY calls of
# SimpleService/UnaryRpc in flight for DURATION seconds against a grpc-java backend directly, through nginx
# (grpc_pass, one worker) and through Portico (h2c listener, upstream `protocol: h2c`, one event loop); req/s and
# p50/p99 of each, interleaved in each round. The proxies on core CPU_PROXY; backend and load generator on core
# CPU_LOAD. If this build of Portico does not know `protocol: h2c`, Portico is reported as not measured.
# See bench/README.md ("HTTP/2 and gRPC").
#
#   bench/grpc.sh                      # about 3 minutes: 3 rounds of 10 s per target
#   DURATION=3 ROUNDS=1 bench/grpc.sh  # a smoke run
#
# Writes $RESULTS_DIR/<date>-grpc.md (default bench/results/) and keeps the raw outputs in <date>-grpc.raw/.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")

# ---- knobs (environment) ----------------------------------------------------------------------------------------
DURATION=${DURATION:-10}            # seconds of each measured run
ROUNDS=${ROUNDS:-3}                 # rounds; the targets interleaved, their order rotated each round
WARMUP=${WARMUP:-3}                 # seconds each run loads before it measures (the load generator's own JIT)
WARM_DURATION=${WARM_DURATION:-5}   # seconds of load per target before the rounds (the proxies' JIT)
CONCURRENCY=${CONCURRENCY:-64}      # unary calls in flight
CHANNELS=${CHANNELS:-4}             # client connections the calls are spread over
CPU_PROXY=${CPU_PROXY:-0}
CPU_LOAD=${CPU_LOAD:-1}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
COMMAND="DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP WARM_DURATION=$WARM_DURATION CONCURRENCY=$CONCURRENCY"
COMMAND+=" CHANNELS=$CHANNELS CPU_PROXY=$CPU_PROXY CPU_LOAD=$CPU_LOAD${JAVA_OPTS:+ JAVA_OPTS=\"$JAVA_OPTS\"}"
COMMAND+=" bench/grpc.sh"

source "$BENCH/lib.sh"
source "$BENCH/lib-proto.sh"
T_START=$SECONDS
bench_setup nginx
NAME=$(date +%F)-grpc

# GrpcBench runs from the test classpath, as bench/jmh.sh runs JMH.
if (( SKIP_BUILD == 0 )); then
    log "compiling the tests (GrpcBench)"
    (cd "$ROOT" && mvn -B -q -DskipTests -Dstyle.color=never test-compile) >&2 || die "test-compile failed"
fi
[[ -f $ROOT/target/test-classes/dev/portico/bench/GrpcBench.class ]] || die "GrpcBench not compiled"
(cd "$ROOT" && mvn -B -q dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$WORK/test.classpath") > /dev/null || die "no test classpath"
CP="$ROOT/target/test-classes:$ROOT/target/classes:$(cat "$WORK/test.classpath")"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

start_proc backend "$CPU_LOAD" --log-pattern "listening on" --log-pattern-file "$WORK/backend/stderr.log" -- \
    "$JAVA" -cp "$CP" dev.portico.bench.GrpcBench server 0 || die "the gRPC backend did not start"
BACKEND_PORT=$(sed -n 's/^listening on //p' "$WORK/backend/stderr.log")

pick_port; PORT[nginx]=$PICKED
render_conf "$BENCH/conf/grpc-nginx.conf" "$WORK/nginx/nginx.conf" "PROXY_PORT=${PORT[nginx]}" \
    "BACKEND_PORT=$BACKEND_PORT" "NOFILE=$NOFILE" "WORKER_CONNECTIONS=$WORKER_CONNECTIONS"
start_proc nginx "$CPU_PROXY" --port "${PORT[nginx]}" -- \
    nginx -p "$WORK/nginx/" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" || die "nginx did not start"

TARGETS=("direct:$BACKEND_PORT" "nginx:${PORT[nginx]}")
PORTICO_NOTE=
pick_port; PORT[portico]=$PICKED
render_conf "$BENCH/conf/grpc-portico.yaml" "$WORK/portico/portico.yaml" "PROXY_PORT=${PORT[portico]}" \
    "BACKEND_PORT=$BACKEND_PORT"
if ! check=$("$ROOT/bin/portico" --check --config "$WORK/portico/portico.yaml" 2>&1); then
    PORTICO_NOTE="not measured: this build of Portico rejects \`protocol: h2c\` ($(echo "$check" \
        | grep -m1 -o 'upstreams\.grpc\.protocol: [a-z ]*[a-z]' || echo "$check" | tail -1))"
    log "Portico: $PORTICO_NOTE"
else
    start_proc portico "$CPU_PROXY" --log-pattern "listening on" --log-pattern-file "$WORK/portico/stderr.log" \
        -- "$ROOT/bin/portico" --config "$WORK/portico/portico.yaml" || die "Portico did not start"
    TARGETS+=("portico:${PORT[portico]}")
fi

load_run() {  # load_run FILE PORT SECONDS WARMUP: sets RPS P50 P99, or fails on errors
    taskset -c "$CPU_LOAD" "$JAVA" -cp "$CP" dev.portico.bench.GrpcBench load "127.0.0.1:$2" "$CONCURRENCY" "$3" \
        "$4" "$CHANNELS" > "$1" 2>&1 || true
    local line
    line=$(grep -m1 '^calls=' "$1") || { log "no result: $1"; tail -5 "$1" >&2; return 1; }
    [[ $line == *" errors=0 "* ]] || { log "calls failed: $line"; grep first_error "$1" >&2; return 1; }
    RPS=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<< "$line")
    P50=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<< "$line")
    P99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<< "$line")
}

declare -A R50 R99 RRPS
for t in "${TARGETS[@]}"; do
    IFS=: read -r name port <<< "$t"
    log "warm-up: $name ${WARM_DURATION}s"
    load_run "$RAW/warm__$name.txt" "$port" "$WARM_DURATION" 0 || die "$name does not answer"
done
for (( round = 1; round <= ROUNDS; round++ )); do
    while read -r t; do
        IFS=: read -r name port <<< "$t"
        load_run "$RAW/r${round}__$name.txt" "$port" "$DURATION" "$WARMUP" || die "$name failed in round $round"
        log "round $round: $name $RPS calls/s, p50 $P50 ms, p99 $P99 ms"
        RRPS[$name]+="$RPS "; R50[$name]+="$P50 "; R99[$name]+="$P99 "
        check_alive backend nginx
    done < <(rotated "$round" "${TARGETS[@]}")
done

mkdir -p "$RESULTS_DIR"
rm -rf "${RESULTS_DIR:?}/$NAME.raw"
cp -r "$RAW" "$RESULTS_DIR/$NAME.raw"
cp "$WORK/nginx/nginx.conf" "$WORK/portico/portico.yaml" "$RESULTS_DIR/$NAME.raw/"
row() {  # row NAME LABEL
    # shellcheck disable=SC2086
    if [[ -n ${RRPS[$1]:-} ]]; then
        echo "| $2 | $(median ${RRPS[$1]}) | $(median ${R50[$1]}) | $(median ${R99[$1]}) | ${RRPS[$1]} |"
    else
        echo "| $2 | $PORTICO_NOTE | | | |"
    fi
}
# shellcheck disable=SC2086
{
    echo "# Unary gRPC: direct, nginx grpc_pass, Portico h2c ($(date '+%F %T %Z'))"
    echo
    echo "GrpcBench: $CONCURRENCY unary calls in flight over $CHANNELS connections, ${DURATION}s measured per run"
    echo "after ${WARMUP}s, $ROUNDS rounds (medians). Proxies on core $CPU_PROXY; backend and load on core $CPU_LOAD."
    echo
    echo "| target | calls/s | p50 ms | p99 ms | calls/s per round |"
    echo "|---|---|---|---|---|"
    row direct "grpc-java backend directly"
    row nginx "nginx grpc_pass"
    row portico "Portico (h2c upstream)"
    echo
    echo "Ratio Portico / nginx (calls/s): $(ratio "$(median ${RRPS[portico]:-})" "$(median ${RRPS[nginx]})")"
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1);"
    echo "$(nginx -v 2>&1); grpc-java 1.85.1; $("$ROOT/bin/portico" --version 2>&1 | head -1)."
    echo "Command: $COMMAND"
} > "$RESULTS_DIR/$NAME.md"
log "done in $(( SECONDS - T_START ))s: $RESULTS_DIR/$NAME.md"
cat "$RESULTS_DIR/$NAME.md"
