#!/usr/bin/env bash
# HTTP/2 through Portico: h2load (nghttp2-client) sends HTTP/2 with prior knowledge to Portico's h2c listener, which
# forwards to the same nginx backend once over HTTP/1.1 (/h1/) and once over cleartext HTTP/2 (/h2c/, an upstream
# with `protocol: h2c`), interleaved in each round; req/s of each and their ratio. The backend alone over h2c is
# measured too, as the ceiling. Portico (one event loop) on core CPU_PROXY; nginx (one worker) and h2load on core
# CPU_LOAD. If this build of Portico does not know `protocol: h2c`, that half is reported as not measured and the
# HTTP/1.1 half still runs. See bench/README.md ("HTTP/2 and gRPC").
#
#   bench/h2.sh                     # about 2 minutes: 3 rounds of 10 s per target
#   DURATION=3 ROUNDS=1 bench/h2.sh # a smoke run
#
# Writes $RESULTS_DIR/<date>-h2.md (default bench/results/) and keeps the raw h2load outputs in <date>-h2.raw/.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")

# ---- knobs (environment) ----------------------------------------------------------------------------------------
DURATION=${DURATION:-10}            # seconds of each measured h2load run
ROUNDS=${ROUNDS:-3}                 # rounds; the targets interleaved, their order rotated each round
WARM_DURATION=${WARM_DURATION:-5}   # seconds of h2load per target before the rounds (Portico's JIT)
CLIENTS=${CLIENTS:-8}               # h2load clients (connections)
STREAMS=${STREAMS:-16}              # h2load -m: concurrent streams per connection
CPU_PROXY=${CPU_PROXY:-0}
CPU_LOAD=${CPU_LOAD:-1}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
COMMAND="DURATION=$DURATION ROUNDS=$ROUNDS WARM_DURATION=$WARM_DURATION CLIENTS=$CLIENTS STREAMS=$STREAMS"
COMMAND+=" CPU_PROXY=$CPU_PROXY CPU_LOAD=$CPU_LOAD${JAVA_OPTS:+ JAVA_OPTS=\"$JAVA_OPTS\"} bench/h2.sh"

source "$BENCH/lib.sh"
source "$BENCH/lib-proto.sh"
T_START=$SECONDS
bench_setup nginx h2load
command -v h2load >/dev/null || die "h2load missing (apt-get install nghttp2-client)"
NAME=$(date +%F)-h2

pick_port; BACKEND_PORT=$PICKED
pick_port; H2C_PORT=$PICKED
pick_port; PROXY_PORT=$PICKED
mkdir -p "$WORK/www/h1" "$WORK/www/h2c"
head -c 1024 /dev/urandom > "$WORK/www/h1/small"
cp "$WORK/www/h1/small" "$WORK/www/h2c/small"
render_conf "$BENCH/conf/h2-backend-nginx.conf" "$WORK/backend/nginx.conf" "BACKEND_PORT=$BACKEND_PORT" \
    "H2C_PORT=$H2C_PORT" "NOFILE=$NOFILE" "WORKER_CONNECTIONS=$WORKER_CONNECTIONS"
start_proc backend "$CPU_LOAD" --port "$H2C_PORT" -- \
    nginx -p "$WORK/backend/" -e "$WORK/backend/error.log" -c "$WORK/backend/nginx.conf" \
    || die "the nginx backend did not start"

# Portico: the /h2c/ route only if this build accepts `protocol: h2c` (bin/portico --check says).
H2C_NOTE=
portico_conf() {  # portico_conf WITH_H2C
    local ups= routes=
    if (( $1 )); then
        ups="  h2c:\n    servers: [http://127.0.0.1:$H2C_PORT]\n    protocol: h2c"
        routes="  - path: /h2c\n    upstream: h2c"
    fi
    render_conf "$BENCH/conf/h2-portico.yaml" "$WORK/portico/portico.yaml" "PROXY_PORT=$PROXY_PORT" \
        "BACKEND_PORT=$BACKEND_PORT" "UPSTREAMS_EXTRA=$ups" "ROUTES_EXTRA=$routes"
    sed -i 's/\\n/\n/g' "$WORK/portico/portico.yaml"
}
mkdir -p "$WORK/portico"
portico_conf 1
if ! check=$("$ROOT/bin/portico" --check --config "$WORK/portico/portico.yaml" 2>&1); then
    H2C_NOTE="not measured: this build of Portico rejects \`protocol: h2c\` ($(echo "$check" \
        | grep -m1 -o 'upstreams\.h2c\.protocol: [a-z ]*[a-z]' || echo "$check" | tail -1))"
    log "h2c upstream: $H2C_NOTE"
    portico_conf 0
    "$ROOT/bin/portico" --check --config "$WORK/portico/portico.yaml" >/dev/null 2>&1 || die "config rejected"
fi
start_proc portico "$CPU_PROXY" --log-pattern "listening on" --log-pattern-file "$WORK/portico/stderr.log" -- \
    "$ROOT/bin/portico" --config "$WORK/portico/portico.yaml" || die "Portico did not start"

TARGETS=("portico-h1:$PROXY_PORT:/h1/small" "backend-h2c:$H2C_PORT:/h2c/small")
[[ -n $H2C_NOTE ]] || TARGETS=("portico-h2c:$PROXY_PORT:/h2c/small" "${TARGETS[@]}")

h2load_run() {  # h2load_run FILE PORT PATH SECONDS: sets RPS (succeeded requests per second) or fails
    taskset -c "$CPU_LOAD" h2load -c "$CLIENTS" -m "$STREAMS" -D "$4" "http://127.0.0.1:$2$3" > "$1" 2>&1 || true
    local ok bad
    ok=$(awk '/^requests:/ { print $8 }' "$1")
    bad=$(awk '/^status codes:/ { print $5 + $7 + $9 }' "$1")  # 3xx, 4xx, 5xx
    if [[ -z $ok || $ok -eq 0 || $bad != 0 ]]; then
        log "h2load failed or got non-2xx answers: $1"
        tail -8 "$1" >&2
        return 1
    fi
    RPS=$(awk -v n="$ok" -v s="$4" 'BEGIN { printf "%.0f", n / s }')
}

declare -A RESULTS
for t in "${TARGETS[@]}"; do
    IFS=: read -r name port path <<< "$t"
    log "warm-up: $name ${WARM_DURATION}s"
    h2load_run "$RAW/warm__$name.txt" "$port" "$path" "$WARM_DURATION" || die "$name does not answer"
done
for (( round = 1; round <= ROUNDS; round++ )); do
    while read -r t; do
        IFS=: read -r name port path <<< "$t"
        h2load_run "$RAW/r${round}__$name.txt" "$port" "$path" "$DURATION" || die "$name failed in round $round"
        log "round $round: $name $RPS req/s"
        RESULTS[$name]+="$RPS "
        check_alive backend portico
    done < <(rotated "$round" "${TARGETS[@]}")
done

# shellcheck disable=SC2086
H1=$(median ${RESULTS[portico-h1]})
# shellcheck disable=SC2086
H2=$(median ${RESULTS[portico-h2c]:-})
# shellcheck disable=SC2086
DIRECT=$(median ${RESULTS[backend-h2c]})
mkdir -p "$RESULTS_DIR"
rm -rf "${RESULTS_DIR:?}/$NAME.raw"
cp -r "$RAW" "$RESULTS_DIR/$NAME.raw"
cp "$WORK/portico/portico.yaml" "$WORK/backend/nginx.conf" "$RESULTS_DIR/$NAME.raw/"
{
    echo "# HTTP/2 through Portico: h2c upstream vs HTTP/1.1 upstream ($(date '+%F %T %Z'))"
    echo
    echo "h2load -c $CLIENTS -m $STREAMS, ${DURATION}s per run, $ROUNDS rounds (median of the rounds), a 1 KiB file"
    echo "from nginx; Portico with one event loop on core $CPU_PROXY, nginx and h2load on core $CPU_LOAD."
    echo
    echo "| target | req/s (median) | rounds |"
    echo "|---|---|---|"
    echo "| Portico -> HTTP/1.1 backend | $H1 | ${RESULTS[portico-h1]} |"
    echo "| Portico -> h2c backend | ${H2:-${H2C_NOTE}} | ${RESULTS[portico-h2c]:-} |"
    echo "| backend alone over h2c | $DIRECT | ${RESULTS[backend-h2c]} |"
    echo
    echo "Ratio h2c upstream / HTTP/1.1 upstream: $(ratio "$H2" "$H1")"
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1);"
    echo "$(h2load --version 2>&1 | head -1); $(nginx -v 2>&1); $("$ROOT/bin/portico" --version 2>&1 | head -1)."
    echo "Command: $COMMAND"
} > "$RESULTS_DIR/$NAME.md"
log "done in $(( SECONDS - T_START ))s: $RESULTS_DIR/$NAME.md"
cat "$RESULTS_DIR/$NAME.md"
