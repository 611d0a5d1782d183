#!/usr/bin/env bash
# Cache hits: Portico's cache policy beside nginx proxy_cache, each a proxy with one event loop / worker pinned to
# core 0 in front of the nginx backend of bench/run.sh, which answers /1k and /100k with Cache-Control:
# max-age=3600; wrk on core 1. Then the memory of Portico's cache: RSS of a fresh Portico (bin/portico, its default
# heap) while 10,000 and then 10,000 more distinct 100 KiB responses go through a max_size: 64MiB cache.
# See bench/README.md ("Cache hits") for what is measured and why.
#
#   bench/cache.sh                        # about 4 minutes: 3 rounds of 10 s per size and proxy
#   DURATION=5 bench/cache.sh             # quicker
#
# Writes $RESULTS_DIR/<date>-cache.md (default bench/results/) and keeps the raw outputs in <date>-cache.raw/.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")

# ---- knobs (environment) ----------------------------------------------------------------------------------------
DURATION=${DURATION:-10}            # seconds of each measured wrk run
ROUNDS=${ROUNDS:-3}                 # rounds per size; the two proxies interleaved, their order rotated each round
WARM_DURATION=${WARM_DURATION:-10}  # seconds of wrk per size and proxy before the rounds (Portico's JIT)
CONNS=${CONNS:-50}                  # wrk connections
MEM_RESPONSES=${MEM_RESPONSES:-10000}  # distinct 100 KiB responses per pass of the memory phase (two passes)
MAX_SIZE=${MAX_SIZE:-64MiB}         # Portico's cache max_size
CPU_PROXY=${CPU_PROXY:-0}
CPU_LOAD=${CPU_LOAD:-1}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
COMMAND="DURATION=$DURATION ROUNDS=$ROUNDS WARM_DURATION=$WARM_DURATION CONNS=$CONNS MEM_RESPONSES=$MEM_RESPONSES"
COMMAND+=" MAX_SIZE=$MAX_SIZE CPU_PROXY=$CPU_PROXY CPU_LOAD=$CPU_LOAD${JAVA_OPTS:+ JAVA_OPTS=\"$JAVA_OPTS\"}"
COMMAND+=" bench/cache.sh"

source "$BENCH/lib.sh"
T_START=$SECONDS
bench_setup nginx wrk
TARGET_LIST=(nginx portico)
pick_port; BACKEND_PORT=$PICKED
for t in "${TARGET_LIST[@]}"; do pick_port; PORT[$t]=$PICKED; done

# The caches, added to the configs bench/run.sh uses. nginx: a keys zone with its files on disk (in the page cache
# once written), freshness from the backend's max-age; hits sent with sendfile and their files' descriptors kept
# open (open_file_cache), as an nginx cache is usually run: without them a 100 KiB hit took 2 to 3.5 times the CPU
# in a trial. tcp_nopush is left off: with it every 100 KiB hit waited about 40 ms for a delayed ACK there.
# X-Cache-Status shows that it serves hits.
NGINX_HTTP_EXTRA="proxy_cache_path $WORK/nginx/cache levels=1:2 keys_zone=bench:16m max_size=1g inactive=2h"
NGINX_HTTP_EXTRA+=" use_temp_path=off;"
NGINX_LOCATION_EXTRA="proxy_cache bench; add_header X-Cache-Status \$upstream_cache_status; sendfile on;"
NGINX_LOCATION_EXTRA+=" open_file_cache max=1000 inactive=60s;"
PORTICO_ROUTE_EXTRA="policies: [{cache: {max_size: $MAX_SIZE}}]"

head -c 1024 /dev/urandom > "$WORK/www/1k"
head -c 102400 /dev/urandom > "$WORK/www/100k"
start_server backend "$CPU_LOAD"
"$PY" "$BENCH/tools.py" check --port "$BACKEND_PORT" --path /100k --size 102400 \
    --header 'Cache-Control: ^max-age=3600$' || die "backend check failed"

cpu_of() { "$PY" "$BENCH/tools.py" cpu "${PID[$1]}"; }  # CPU seconds of a server (with its children) so far
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }

# ---- memory: a fresh Portico, MEM_RESPONSES distinct 100 KiB responses, twice ------------------------------------
log "memory: $MEM_RESPONSES + $MEM_RESPONSES distinct 100 KiB responses through Portico (max_size $MAX_SIZE)"
start_server portico "$CPU_PROXY"
metric mem0 portico 1 rss_kib "$(rss_of portico)"
for pass in 1 2; do
    taskset -c "$CPU_LOAD" "$PY" "$BENCH/tools.py" fill --port "${PORT[portico]}" --path /100k --size 102400 \
        --n "$MEM_RESPONSES" --first $(( (pass - 1) * MEM_RESPONSES )) > "$RAW/mem$pass.txt" \
        || log "warning: some requests of memory pass $pass failed (see $RAW/mem$pass.txt)"
    sleep 2.5  # bin/portico trims the native heap every 2 s
    while read -r k v; do metric "mem$pass" portico 1 "$k" "$v"; done < "$RAW/mem$pass.txt"
    metric "mem$pass" portico 1 rss_kib "$(rss_of portico)"
    metric "mem$pass" portico 1 hwm_kib "$("$PY" "$BENCH/tools.py" rss --field VmHWM "${PID[portico]}")"
    check_alive portico
done
stop_pid "${PID[portico]}"

# ---- cache hits -------------------------------------------------------------------------------------------------
for t in "${TARGET_LIST[@]}"; do start_server "$t" "$CPU_PROXY"; done
check_hits() {  # each proxy answers both paths from its cache, or the script stops
    local t path size hit
    for t in "${TARGET_LIST[@]}"; do
        for path in /1k:1024 /100k:102400; do
            size=${path#*:} path=${path%:*}
            "$PY" "$BENCH/tools.py" check --port "${PORT[$t]}" --path "$path" --size "$size" >/dev/null \
                || die "$t: $path check failed"
            case $t in
                nginx) hit=(--header 'X-Cache-Status: ^HIT$') ;;
                portico) hit=(--header 'Cache-Status: ^portico; hit$') ;;
            esac
            "$PY" "$BENCH/tools.py" check --port "${PORT[$t]}" --path "$path" --size "$size" "${hit[@]}" \
                || die "$t: $path is not served from its cache"
        done
    done
}
check_hits
log "warm-up: ${WARM_DURATION}s per size and proxy"
for t in "${TARGET_LIST[@]}"; do
    for path in /1k /100k; do
        wrk_run "warm${path#/}__${t}__r1" "$CPU_LOAD" "$CONNS" "$WARM_DURATION" "${PORT[$t]}" "$path"
    done
done
for path in /1k /100k; do
    phase=hit${path#/}
    log "phase $phase: $ROUNDS rounds, -c$CONNS $path, ${DURATION}s each"
    for (( r = 1; r <= ROUNDS; r++ )); do
        for t in $(rotated "$r" "${TARGET_LIST[@]}"); do
            before=$(cpu_of "$t") backend_before=$(cpu_of backend)
            wrk_run "${phase}__${t}__r$r" "$CPU_LOAD" "$CONNS" "$DURATION" "${PORT[$t]}" "$path"
            metric "$phase" "$t" "$r" cpu_s "$(since "$before" "$(cpu_of "$t")")"
            metric "$phase" "$t" "$r" backend_cpu_s "$(since "$backend_before" "$(cpu_of backend)")"
            check_alive "$t"
        done
    done
done
check_hits  # still hits after the rounds: nothing expired or was evicted meanwhile
for t in "${TARGET_LIST[@]}"; do record_cmdline "$t"; done

# ---- stop, collect, report --------------------------------------------------------------------------------------
{
    machine_meta
    echo "kind=cache"
    echo "duration=$DURATION"
    echo "conns=$CONNS"
    echo "mem_responses=$MEM_RESPONSES"
    echo "max_size=$MAX_SIZE"
    while read -r t line; do echo "cmdline_$t=$line"; done < "$WORK/cmdlines.txt"
} > "$WORK/meta.txt"
for t in "${TARGET_LIST[@]}"; do stop_pid "${PID[$t]}"; done
stop_pid "${PID[backend]}"
finish "$(date +%F)-cache" "${TARGET_LIST[@]}"
