#!/usr/bin/env bash
# The CPU floor of a proxy built on Netty's HTTP codecs: nginx, Portico and bench/floor/NettyFloor.java (the least
# an HTTP/1.1 reverse proxy on Netty does: decode, pooled backend connection, encode; no routing, header rewriting,
# limits, timeouts, metrics or logging) side by side, each pinned to CPU_PROXY in front of the same nginx backend,
# `wrk -t1 -c50` on /small (1 KiB) from CPU_LOAD. Reports each proxy's user and kernel CPU time per request (from
# /proc/PID/stat over each run), medians of the rounds, and their ratios to nginx's. See bench/README.md.
#
#   bench/floor.sh                      # about 4 minutes: 15 s warm-up each, 5 rounds of 10 s per target
#   DURATION=3 ROUNDS=1 WARM_DURATION=3 bench/floor.sh   # a smoke run
#
# Writes $RESULTS_DIR/<date>-floor.md (default bench/results/; RESULTS_NAME=NAME writes NAME.md) and keeps the raw
# wrk outputs in <name>.raw/.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")

# ---- knobs (environment) ----------------------------------------------------------------------------------------
DURATION=${DURATION:-10}            # seconds of each measured wrk run
ROUNDS=${ROUNDS:-5}                 # rounds; the targets interleaved, their order rotated each round
WARM_DURATION=${WARM_DURATION:-15}  # seconds of wrk per target before the rounds (the JIT)
CONNS=${CONNS:-50}
CPU_PROXY=${CPU_PROXY:-0}
CPU_LOAD=${CPU_LOAD:-1}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
COMMAND="DURATION=$DURATION ROUNDS=$ROUNDS WARM_DURATION=$WARM_DURATION CONNS=$CONNS CPU_PROXY=$CPU_PROXY"
COMMAND+=" CPU_LOAD=$CPU_LOAD bench/floor.sh"

source "$BENCH/lib.sh"
source "$BENCH/lib-proto.sh"
T_START=$SECONDS
bench_setup nginx wrk
NAME=${RESULTS_NAME:-$(date +%F)-floor}
TARGETS=(nginx portico netty)

pick_port; BACKEND_PORT=$PICKED
for t in "${TARGETS[@]}"; do pick_port; PORT[$t]=$PICKED; done
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/www/small"
start_server backend "$CPU_LOAD"
"$PY" "$BENCH/tools.py" check --port "$BACKEND_PORT" --path /small --size 1024 || die "backend check failed"

render "$BENCH/conf/portico.yaml" "$WORK/portico/portico.yaml" "${PORT[portico]}"
cds_training
start_server nginx "$CPU_PROXY"
start_server portico "$CPU_PROXY"

# The floor, compiled against the Netty in Portico's jar and run by the same Java as bin/portico with its heap,
# collector and Netty flags.
JDK_BIN=${JAVA_HOME:+$JAVA_HOME/bin/}
command -v "${JDK_BIN}javac" >/dev/null || die "javac missing (a JDK, not a JRE: apt-get install openjdk-17-jdk-headless)"
mkdir -p "$WORK/netty/classes"
"${JDK_BIN}javac" --release 17 -nowarn -cp "$ROOT/target/portico.jar" -d "$WORK/netty/classes" \
    "$BENCH/floor/NettyFloor.java" || die "bench/floor/NettyFloor.java does not compile"
start_proc netty "$CPU_PROXY" --log-pattern "listening on" --log-pattern-file "$WORK/netty/stderr.log" -- \
    "${JDK_BIN}java" -XX:+UseSerialGC -XX:NewRatio=1 -Xms32m -Xmx256m -XX:MaxDirectMemorySize=256m -Xss512k \
    -XX:-UsePerfData -Dio.netty.leakDetection.level=disabled -Dio.netty.jfr.enabled=false \
    -Dio.netty.tryReflectionSetAccessible=true --add-opens=java.base/java.nio=ALL-UNNAMED \
    -cp "$ROOT/target/portico.jar:$WORK/netty/classes" \
    NettyFloor "${PORT[netty]}" "$BACKEND_PORT" || die "the Netty floor did not start"

for t in "${TARGETS[@]}"; do
    "$PY" "$BENCH/tools.py" check --port "${PORT[$t]}" --path /small --size 1024 || die "$t: /small check failed"
    log "warm-up: $t ${WARM_DURATION}s"
    wrk_run "warm__$t" "$CPU_LOAD" "$CONNS" "$WARM_DURATION" "${PORT[$t]}" /small
done

declare -A UTIME STIME TOTAL RPS
for (( r = 1; r <= ROUNDS; r++ )); do
    while read -r t; do
        read -r u0 s0 < <("$PY" "$BENCH/tools.py" cpu --split "${PID[$t]}")
        wrk_run "r${r}__$t" "$CPU_LOAD" "$CONNS" "$DURATION" "${PORT[$t]}" /small
        read -r u1 s1 < <("$PY" "$BENCH/tools.py" cpu --split "${PID[$t]}")
        n=$(awk '/requests in/ { print $1 }' "$RAW/r${r}__$t.txt")
        errors=$(awk '/Non-2xx|Socket errors/' "$RAW/r${r}__$t.txt")
        [[ -n $n && $n -gt 0 && -z $errors ]] || die "$t failed in round $r (see $RAW/r${r}__$t.txt)"
        read -r us ss <<< "$(awk -v a="$u0" -v b="$u1" -v c="$s0" -v d="$s1" -v n="$n" \
            'BEGIN { printf "%.2f %.2f", (b - a) * 1e6 / n, (d - c) * 1e6 / n }')"
        UTIME[$t]+="$us "; STIME[$t]+="$ss "; RPS[$t]+="$(( n / DURATION )) "
        TOTAL[$t]+="$(awk -v a="$us" -v b="$ss" 'BEGIN { printf "%.2f", a + b }') "
        log "round $r: $t $(( n / DURATION )) req/s, user $us us, kernel $ss us per request"
        check_alive backend "$t"
    done < <(rotated "$r" "${TARGETS[@]}")
done

declare -A MU MS MT
for t in "${TARGETS[@]}"; do
    # shellcheck disable=SC2086
    MU[$t]=$(median ${UTIME[$t]}); MS[$t]=$(median ${STIME[$t]}); MT[$t]=$(median ${TOTAL[$t]})
done
mkdir -p "$RESULTS_DIR"
rm -rf "${RESULTS_DIR:?}/$NAME.raw"
cp -r "$RAW" "$RESULTS_DIR/$NAME.raw"
cp "$WORK/portico/portico.yaml" "$WORK/nginx/nginx.conf" "$RESULTS_DIR/$NAME.raw/"
label() { case $1 in nginx) echo nginx ;; portico) echo Portico ;; netty) echo "Netty floor (bench/floor/NettyFloor.java)" ;; esac; }
{
    echo "# The CPU floor of a Netty proxy: nginx, Portico and a bare Netty proxy ($(date '+%F %T %Z'))"
    echo
    echo "Each proxy pinned to core $CPU_PROXY in front of the same nginx backend; \`wrk -t1 -c$CONNS\` on /small"
    echo "(1 KiB) from core $CPU_LOAD; ${WARM_DURATION} s of warm-up each, then $ROUNDS rounds of ${DURATION} s, the"
    echo "targets interleaved. CPU time per request from /proc/PID/stat (all threads) over each run; medians of the"
    echo "rounds (each round's figures in brackets; the total is the median of the rounds' totals)."
    echo
    echo "| proxy | req/s | user us/request | kernel us/request | total | total / nginx's |"
    echo "|---|---:|---:|---:|---:|---:|"
    for t in "${TARGETS[@]}"; do
        # shellcheck disable=SC2086
        echo "| $(label "$t") | $(median ${RPS[$t]}) | ${MU[$t]} (${UTIME[$t]% }) | ${MS[$t]} (${STIME[$t]% }) | ${MT[$t]} (${TOTAL[$t]% }) | $(ratio "${MT[$t]}" "${MT[nginx]}") |"
    done
    echo
    echo "User time per request against nginx's: Portico $(ratio "${MU[portico]}" "${MU[nginx]}")x, the Netty floor"
    echo "$(ratio "${MU[netty]}" "${MU[nginx]}")x; Portico against the floor: $(ratio "${MT[portico]}" "${MT[netty]}")x in total."
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1);"
    echo "$(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//'); $(nginx -v 2>&1 | sed 's/^nginx version: //');"
    echo "$("$ROOT/bin/portico" --version 2>&1 | head -1); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Command: $COMMAND"
} > "$RESULTS_DIR/$NAME.md"
log "done in $(( SECONDS - T_START ))s: $RESULTS_DIR/$NAME.md"
cat "$RESULTS_DIR/$NAME.md"
