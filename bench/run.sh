#!/usr/bin/env bash
# Side-by-side benchmark of Portico, nginx and HAProxy as reverse proxies in front of one nginx backend, all on
# 127.0.0.1. See bench/README.md for what is measured and why it is fair.
#
#   bench/run.sh                                       # the full run (about 15 minutes on 2 cores)
#   DURATION=2 WARM_DURATION=2 ROUNDS=1 IDLE_CONNS=2000 bench/run.sh   # a smoke run (about 3 minutes)
#
# Writes $RESULTS_DIR/<date>.md (default bench/results/; RESULTS_NAME=NAME writes NAME.md instead, e.g. for a second
# run on one day) and keeps every raw wrk output in $RESULTS_DIR/<date>.raw/ (NAME.raw/).
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
bench_setup nginx haproxy wrk h2load openssl
if (( IDLE_CONNS > MAXCONN - 100 )); then
    capped=$(( (MAXCONN - 100) / 500 * 500 ))
    log "warning: open-file limit $NOFILE: phase 5 holds $capped connections, not $IDLE_CONNS (raise ulimit -Hn)"
    IDLE_CONNS=$capped
fi

# ---- TLS listeners and routes with policies (phases 6-8) --------------------------------------------------------
# One self-signed ECDSA P-256 certificate for all three. Each proxy gets a TLS listener (HTTP/1.1 and HTTP/2 by
# ALPN) routed like its plain one, and a route to the backend's /p/small with the same work: a request field set,
# a response field set, the three fields of Portico's basic security_headers preset, and a per-client rate limit
# too high to refuse anything (so its bookkeeping is measured, not its 429s). nginx and HAProxy get them as extra
# files beside their configs; Portico as a listener and a route in its YAML.
declare -A TLS_PORT POLICY_PORT
extra_configs() {
    local tls=$WORK/tls
    bench_cert "$tls"
    local proxy=$NGINX_PROXY
    cat > "$WORK/nginx/extra/bench.conf" <<END
limit_req_zone \$binary_remote_addr zone=bench:1m rate=1000000r/s;
server {
    listen 127.0.0.1:${TLS_PORT[nginx]:-0} ssl http2 backlog=1024;
    ssl_certificate $tls/cert.pem;
    ssl_certificate_key $tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;  # nginx 1.22 leaves 1.3 out by default; the others negotiate it
    location / {
        $proxy
    }
}
server {
    listen 127.0.0.1:${POLICY_PORT[nginx]:-0} backlog=1024;
    location / {
        $proxy
        proxy_set_header X-Env bench;
        add_header X-Served-By bench;
        add_header X-Content-Type-Options nosniff;
        add_header Referrer-Policy strict-origin-when-cross-origin;
        add_header X-Frame-Options SAMEORIGIN;
        limit_req zone=bench burst=1000000 nodelay;
    }
}
END
    cat > "$WORK/haproxy/extra.cfg" <<END
frontend tls
    bind 127.0.0.1:${TLS_PORT[haproxy]:-0} ssl crt $tls/both.pem alpn h2,http/1.1
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request add-header Via "1.1 haproxy"
    http-response add-header Via "1.1 haproxy"
    default_backend backend

frontend policies
    bind 127.0.0.1:${POLICY_PORT[haproxy]:-0}
    option forwardfor
    stick-table type ip size 100k expire 10s store http_req_rate(1s)
    http-request track-sc0 src
    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 1000000 }
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request add-header Via "1.1 haproxy"
    http-request set-header X-Env bench
    http-response add-header Via "1.1 haproxy"
    http-response set-header X-Served-By bench
    http-response set-header X-Content-Type-Options nosniff
    http-response set-header Referrer-Policy strict-origin-when-cross-origin
    http-response set-header X-Frame-Options SAMEORIGIN
    default_backend backend
END
    PORTICO_LISTEN_EXTRA="- {address: \"127.0.0.1:${TLS_PORT[portico]:-0}\","
    PORTICO_LISTEN_EXTRA+=" tls: {certificate: $tls/cert.pem, key: $tls/key.pem}}"
    PORTICO_ROUTES_EXTRA="- {path: /p/, upstream: \"http://127.0.0.1:$BACKEND_PORT\", policies: ["
    PORTICO_ROUTES_EXTRA+="{headers: {request: {set: {X-Env: bench}}, response: {set: {X-Served-By: bench}}}},"
    PORTICO_ROUTES_EXTRA+=" {security_headers: {preset: basic}}, {rate_limit: {rate: 1000000/s}}]}"
}

# ---- ports and configs --------------------------------------------------------------------------------------------
pick_port; BACKEND_PORT=$PICKED
for t in "${TARGET_LIST[@]}"; do pick_port; PORT[$t]=$PICKED; pick_port; TLS_PORT[$t]=$PICKED; done
for t in nginx haproxy; do pick_port; POLICY_PORT[$t]=$PICKED; done
POLICY_PORT[portico]=${PORT[portico]}  # Portico: a second route (/p/) on its one listener
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

# bin/portico's class-data-sharing archive, made before the measurements (bench/lib.sh).
if [[ " ${TARGET_LIST[*]} " == *" portico "* ]]; then
    cds_training
fi

# ---- start-up: time to ready, RSS at start, throughput over the first seconds ------------------------------------
# Each round starts every proxy fresh and loads it at once; the last round's processes stay up for phases 1-5
# (those 10 s of load are their warm-up).
log "start-up phase: $ROUNDS rounds x ${#TARGET_LIST[@]} fresh starts, ${WARM_DURATION}s of load each"
for (( r = 1; r <= ROUNDS; r++ )); do
    for t in $(rotated "$r" "${TARGET_LIST[@]}"); do
        # First a start free to use both cores, as a service manager would start it, timed to ready and stopped.
        start_server "$t" "$CPU_PROXY,$CPU_LOAD"
        metric start "$t" "$r" ready_ms_free "$READY_MS"
        stop_pid "${PID[$t]}"
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
            local c0 c1
            c0=$("$PY" "$BENCH/tools.py" cpu "${PID[$t]}")
            wrk_run "${name}__${t}__r$r" "$CPU_LOAD" "$conns" "$DURATION" "${PORT[$t]}" "$path"
            c1=$("$PY" "$BENCH/tools.py" cpu "${PID[$t]}")
            metric "$name" "$t" "$r" cpu_s "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')"
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

# ---- phases 6-8: HTTPS keep-alive, HTTP/2 over TLS, a route with policies -----------------------------------------
# Each proxy is restarted with its TLS listener and policy route added (so that the start-up phase above measured
# the plain configuration, as before), loaded for WARM_DURATION on each of the three (Portico's JIT), then measured
# with the proxy on CPU_PROXY and the load on CPU_LOAD as in phases 1-3. The proxy's CPU time over each run is kept,
# so a busy machine shows as fewer req/s but much the same CPU per request.
cpu_of() { "$PY" "$BENCH/tools.py" cpu "${PID[$1]}"; }
loaded() {  # loaded NAME TARGET ROUND COMMAND...: runs the load, output in $RAW/NAME__TARGET__rROUND.txt, with CPU
    local name=$1 t=$2 r=$3 c0 c1; shift 3
    c0=$(cpu_of "$t")
    # h2load -D now and then never ends after "Stopped all clients" (some connections go on sending): bounded.
    timeout -k 5 $(( DURATION * 2 + 30 )) taskset -c "$CPU_LOAD" "$@" > "$RAW/${name}__${t}__r$r.txt" 2>&1 \
        || log "load exited non-zero for $name $t round $r (see $RESULTS_DIR/<date>.raw/${name}__${t}__r$r.txt)"
    c1=$(cpu_of "$t")
    metric "$name" "$t" "$r" cpu_s "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')"
    check_alive "$t"
}
tls_load() { echo wrk -t1 -c"$CONNS" -d"$1"s --latency "https://127.0.0.1:${TLS_PORT[$2]}/small"; }
h2_load() { echo h2load -t1 -c"$CONNS" -m10 -D"$1" "https://127.0.0.1:${TLS_PORT[$2]}/small"; }
policy_load() { echo wrk -t1 -c"$CONNS" -d"$1"s --latency "http://127.0.0.1:${POLICY_PORT[$2]}/p/small"; }
extra_configs
log "phases p6-p8: restart with TLS and policies, ${WARM_DURATION}s warm-up each; $ROUNDS rounds of HTTPS"
log "  (wrk -c$CONNS), HTTP/2 (h2load -c$CONNS -m10), a route with policies (wrk -c$CONNS), ${DURATION}s each"
for t in "${TARGET_LIST[@]}"; do
    stop_pid "${PID[$t]}"
    start_server "$t" "$CPU_PROXY"
    "$PY" "$BENCH/tools.py" check --tls --port "${TLS_PORT[$t]}" --path /small --size 1024 \
        || die "$t: /small over TLS check failed"
    "$PY" "$BENCH/tools.py" check --port "${POLICY_PORT[$t]}" --path /p/small --size 1024 \
        --header 'X-Served-By: ^bench$' --header 'X-Frame-Options: ^SAMEORIGIN$' || die "$t: /p/small check failed"
    for load in tls_load h2_load policy_load; do
        # shellcheck disable=SC2046 # the load's command line, split into words on purpose
        loaded "warm$load" "$t" 1 $($load "$WARM_DURATION" "$t")
    done
done
for (( r = 1; r <= ROUNDS; r++ )); do
    for t in $(rotated "$r" "${TARGET_LIST[@]}"); do
        # shellcheck disable=SC2046
        loaded p6 "$t" "$r" $(tls_load "$DURATION" "$t")
        # shellcheck disable=SC2046
        loaded p7 "$t" "$r" $(h2_load "$DURATION" "$t")
        # shellcheck disable=SC2046
        loaded p8 "$t" "$r" $(policy_load "$DURATION" "$t")
    done
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
finish "${RESULTS_NAME:-$(date +%F)}" "${TARGET_LIST[@]}"
