#!/usr/bin/env bash
# The CPU floor of a proxy built on Netty: nginx, Portico and the least a reverse proxy on Netty does, side by side,
# each pinned to CPU_PROXY in front of the same nginx backend, loaded from CPU_LOAD. Reports each proxy's user and
# kernel CPU time per request (from /proc/PID/stat over each run), medians of the rounds, and their ratios to
# nginx's. See bench/README.md.
#
# PROTO=http1 (the default): `wrk -t1 -c50` on /small (1 KiB) over HTTP/1.1; the floor is
# bench/floor/NettyFloor.java (decode, pooled backend connection, encode; no routing, header rewriting, limits,
# timeouts, metrics or logging).
# PROTO=https: `wrk -t1 -c50` on /small over HTTP/1.1 and TLS (each proxy's TLS listener); the floor is
# NettyFloor.java with OpenSSL's TLS in front.
# PROTO=h2: `h2load -t1 -c50 -m10` on /small over HTTP/2 and TLS; two floors from bench/floor/NettyH2Floor.java,
# one with Netty's stream multiplexer (a child channel per stream, as Portico has) and one reading and writing
# frames on the connection.
#
#   bench/floor.sh                      # about 4 minutes: 15 s warm-up each, 5 rounds of 10 s per target
#   PROTO=https bench/floor.sh          # about 4 minutes
#   PROTO=h2 bench/floor.sh             # about 6 minutes
#   DURATION=3 ROUNDS=1 WARM_DURATION=3 bench/floor.sh   # a smoke run
#
# Writes $RESULTS_DIR/<date>-floor.md (<date>-floor-https.md, <date>-floor-h2.md for the others; default
# bench/results/; RESULTS_NAME=NAME writes NAME.md) and keeps the raw load outputs in <name>.raw/.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")

# ---- knobs (environment) ----------------------------------------------------------------------------------------
DURATION=${DURATION:-10}            # seconds of each measured load run
ROUNDS=${ROUNDS:-5}                 # rounds; the targets interleaved, their order rotated each round
WARM_DURATION=${WARM_DURATION:-15}  # seconds of load per target before the rounds (the JIT)
CONNS=${CONNS:-50}
CPU_PROXY=${CPU_PROXY:-0}
CPU_LOAD=${CPU_LOAD:-1}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
PROTO=${PROTO:-http1}
COMMAND="PROTO=$PROTO DURATION=$DURATION ROUNDS=$ROUNDS WARM_DURATION=$WARM_DURATION CONNS=$CONNS CPU_PROXY=$CPU_PROXY"
COMMAND+=" CPU_LOAD=$CPU_LOAD bench/floor.sh"

source "$BENCH/lib.sh"
source "$BENCH/lib-proto.sh"
T_START=$SECONDS
case $PROTO in
    http1) bench_setup nginx wrk; NAME=${RESULTS_NAME:-$(date +%F)-floor}; TARGETS=(nginx portico netty) ;;
    https) bench_setup nginx wrk openssl; NAME=${RESULTS_NAME:-$(date +%F)-floor-https}
        TARGETS=(nginx portico netty) ;;
    h2) bench_setup nginx h2load openssl; NAME=${RESULTS_NAME:-$(date +%F)-floor-h2}
        TARGETS=(nginx portico netty-mux netty-frames) ;;
    *) die "PROTO: http1, https or h2, not '$PROTO'" ;;
esac

pick_port; BACKEND_PORT=$PICKED
declare -A LOAD_PORT
for t in "${TARGETS[@]}"; do
    pick_port; PORT[$t]=$PICKED
    if [[ $PROTO != http1 ]]; then pick_port; fi
    LOAD_PORT[$t]=$PICKED  # what the load goes to: its TLS listener, or for http1 its plain one
done
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/www/small"
start_server backend "$CPU_LOAD"
"$PY" "$BENCH/tools.py" check --port "$BACKEND_PORT" --path /small --size 1024 || die "backend check failed"

if [[ $PROTO != http1 ]]; then
    # A TLS listener for each (h2 by ALPN for PROTO=h2): nginx's routed as its plain one (bench/conf/nginx.conf),
    # Portico's too.
    bench_cert "$WORK/tls"
    cat > "$WORK/nginx/extra/tls.conf" <<END
server {
    listen 127.0.0.1:${LOAD_PORT[nginx]} ssl$([[ $PROTO == h2 ]] && echo " http2") backlog=1024;
    ssl_certificate $WORK/tls/cert.pem;
    ssl_certificate_key $WORK/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
        $NGINX_PROXY
    }
}
END
    PORTICO_LISTEN_EXTRA="- {address: \"127.0.0.1:${LOAD_PORT[portico]}\","
    PORTICO_LISTEN_EXTRA+=" tls: {certificate: $WORK/tls/cert.pem, key: $WORK/tls/key.pem}}"
fi
render "$BENCH/conf/portico.yaml" "$WORK/portico/portico.yaml" "${PORT[portico]}"
cds_training
start_server nginx "$CPU_PROXY"
start_server portico "$CPU_PROXY"

# The floors, compiled against the Netty in Portico's jar and run by the same Java as bin/portico with its heap,
# collector and Netty flags.
JDK_BIN=${JAVA_HOME:+$JAVA_HOME/bin/}
command -v "${JDK_BIN}javac" >/dev/null || die "javac missing (a JDK, not a JRE: apt-get install openjdk-17-jdk-headless)"
mkdir -p "$WORK/netty/classes"
"${JDK_BIN}javac" --release 17 -nowarn -cp "$ROOT/target/portico.jar" -d "$WORK/netty/classes" \
    "$BENCH/floor/NettyFloor.java" "$BENCH/floor/NettyH2Floor.java" || die "bench/floor/*.java do not compile"
start_floor() {  # start_floor TARGET CLASS ARG...
    local t=$1; shift
    mkdir -p "$WORK/$t"
    start_proc "$t" "$CPU_PROXY" --log-pattern "listening on" --log-pattern-file "$WORK/$t/stderr.log" -- \
        "${JDK_BIN}java" -XX:+UseSerialGC -XX:NewRatio=1 -Xms32m -Xmx256m -XX:MaxDirectMemorySize=256m -Xss512k \
        -XX:-UsePerfData -Dio.netty.leakDetection.level=disabled -Dio.netty.jfr.enabled=false \
        -Dio.netty.tryReflectionSetAccessible=true --add-opens=java.base/java.nio=ALL-UNNAMED \
        -cp "$ROOT/target/portico.jar:$WORK/netty/classes" "$@" || die "the Netty floor $t did not start"
}
if [[ $PROTO == http1 ]]; then
    start_floor netty NettyFloor "${PORT[netty]}" "$BACKEND_PORT"
elif [[ $PROTO == https ]]; then
    start_floor netty NettyFloor "${LOAD_PORT[netty]}" "$BACKEND_PORT" "$WORK/tls/cert.pem" "$WORK/tls/key.pem"
else
    for m in mux frames; do
        start_floor "netty-$m" NettyH2Floor "$m" "${LOAD_PORT[netty-$m]}" "$BACKEND_PORT" "$WORK/tls/cert.pem" \
            "$WORK/tls/key.pem"
    done
fi

# load FILE SECONDS TARGET: the run's output in $RAW/FILE.txt; sets N to the requests it completed, or 0 on any
# error or non-2xx answer. SECONDS 0: a short check.
load() {
    local file=$1 seconds=$2 t=$3 out=$RAW/$1.txt
    if [[ $PROTO != h2 ]]; then
        local scheme=http
        [[ $PROTO == https ]] && scheme=https
        taskset -c "$CPU_LOAD" wrk -t1 -c"$CONNS" -d"$(( seconds > 0 ? seconds : 1 ))"s --latency \
            "$scheme://127.0.0.1:${LOAD_PORT[$t]}/small" > "$out" 2>&1 || log "wrk exited non-zero for $file"
        N=$(awk '/requests in/ { print $1 }' "$out")
        if [[ -z $N ]] || grep -qE 'Non-2xx|Socket errors' "$out"; then N=0; fi
    else
        # h2load -D now and then never ends after "Stopped all clients": bounded, as in bench/run.sh. A check
        # (0 seconds) is 1,000 requests instead.
        local span=(-D"$seconds")
        (( seconds > 0 )) || span=(-n1000)
        timeout -k 5 $(( seconds * 2 + 30 )) taskset -c "$CPU_LOAD" h2load -t1 -c"$CONNS" -m10 "${span[@]}" \
            "https://127.0.0.1:${LOAD_PORT[$t]}/small" > "$out" 2>&1 || log "h2load exited non-zero for $file"
        N=$(awk '/^requests:/ { print $8 }' "$out")
        if [[ -z $N ]] || ! grep -qE '^requests: .* 0 failed, 0 errored' "$out" \
            || ! grep -qE '^status codes: [0-9]+ 2xx, 0 3xx, 0 4xx, 0 5xx' "$out"; then N=0; fi
    fi
}

for t in "${TARGETS[@]}"; do
    load "check__$t" 0 "$t"
    (( N > 0 )) || die "$t: the load's check failed (see $RAW/check__$t.txt)"
    log "warm-up: $t ${WARM_DURATION}s"
    load "warm__$t" "$WARM_DURATION" "$t"
done

declare -A UTIME STIME TOTAL RPS
for (( r = 1; r <= ROUNDS; r++ )); do
    while read -r t; do
        read -r u0 s0 < <("$PY" "$BENCH/tools.py" cpu --split "${PID[$t]}")
        load "r${r}__$t" "$DURATION" "$t"
        read -r u1 s1 < <("$PY" "$BENCH/tools.py" cpu --split "${PID[$t]}")
        n=$N
        (( n > 0 )) || die "$t failed in round $r (see $RAW/r${r}__$t.txt)"
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
label() {
    case $1 in
        nginx) echo nginx ;;
        portico) echo Portico ;;
        netty) echo "Netty floor (bench/floor/NettyFloor.java)" ;;
        netty-mux) echo "Netty floor, stream multiplexer (bench/floor/NettyH2Floor.java mux)" ;;
        netty-frames) echo "Netty floor, frames on the connection (bench/floor/NettyH2Floor.java frames)" ;;
    esac
}
if [[ $PROTO == http1 ]]; then
    WHAT="\`wrk -t1 -c$CONNS\` on /small (1 KiB) over HTTP/1.1"
elif [[ $PROTO == https ]]; then
    WHAT="\`wrk -t1 -c$CONNS\` on /small (1 KiB) over HTTP/1.1 and TLS (each proxy's TLS listener)"
else
    WHAT="\`h2load -t1 -c$CONNS -m10\` on /small (1 KiB) over HTTP/2 and TLS (each proxy's TLS listener)"
fi
{
    echo "# The CPU floor of a Netty proxy ($PROTO): nginx, Portico and a bare Netty proxy ($(date '+%F %T %Z'))"
    echo
    echo "Each proxy pinned to core $CPU_PROXY in front of the same nginx backend; $WHAT from core $CPU_LOAD;"
    echo "${WARM_DURATION} s of warm-up each, then $ROUNDS rounds of ${DURATION} s, the targets interleaved. CPU time"
    echo "per request from /proc/PID/stat (all threads) over each run; medians of the rounds (each round's figures in"
    echo "brackets; the total is the median of the rounds' totals)."
    echo
    echo "| proxy | req/s | user us/request | kernel us/request | total | total / nginx's |"
    echo "|---|---:|---:|---:|---:|---:|"
    for t in "${TARGETS[@]}"; do
        # shellcheck disable=SC2086
        echo "| $(label "$t") | $(median ${RPS[$t]}) | ${MU[$t]} (${UTIME[$t]% }) | ${MS[$t]} (${STIME[$t]% }) | ${MT[$t]} (${TOTAL[$t]% }) | $(ratio "${MT[$t]}" "${MT[nginx]}") |"
    done
    echo
    for t in "${TARGETS[@]:1}"; do
        echo "- $(label "$t"): user time per request $(ratio "${MU[$t]}" "${MU[nginx]}")x nginx's."
    done
    for t in "${TARGETS[@]:2}"; do
        echo "- Portico's total against $(label "$t"): $(ratio "${MT[portico]}" "${MT[$t]}")x."
    done
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1);"
    if [[ $PROTO != h2 ]]; then echo "$(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//');"; else h2load --version 2>&1 | head -1; fi
    echo "$(nginx -v 2>&1 | sed 's/^nginx version: //');"
    echo "$("$ROOT/bin/portico" --version 2>&1 | head -1); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Command: $COMMAND"
} > "$RESULTS_DIR/$NAME.md"
log "done in $(( SECONDS - T_START ))s: $RESULTS_DIR/$NAME.md"
cat "$RESULTS_DIR/$NAME.md"
