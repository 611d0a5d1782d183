# Shell functions shared by bench/run.sh and bench/cache.sh (sourced, not run). The sourcing script sets BENCH,
# ROOT, CPU_PROXY, CPU_LOAD, SKIP_INSTALL and SKIP_BUILD first, then calls bench_setup.
#
# Servers are started by start_server from the templates in bench/conf/, each in the foreground under the launcher
# in tools.py, with its own config, pid and log files in the $WORK directory; their PIDs are tracked in PIDS and
# every one still running is stopped (SIGTERM, then SIGKILL) on exit, also on failure or Ctrl-C.

log() { printf '%s [bench] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The system interpreter starts in a tenth of the time of a version-manager shim; tools.py needs nothing else.
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || echo python3)}

install_missing() {  # install_missing COMMAND...: apt-get installs what provides the commands missing
    local need=() c
    for c in "$@" python3 ss taskset java mvn; do
        command -v "$c" >/dev/null && continue
        case $c in
            ss) need+=(iproute2) ;;
            taskset) need+=(util-linux) ;;
            java) need+=(openjdk-17-jdk-headless) ;;
            mvn) need+=(maven) ;;
            h2load) need+=(nghttp2-client) ;;
            *) need+=("$c") ;;
        esac
    done
    (( ${#need[@]} )) || return 0
    (( SKIP_INSTALL == 0 )) || die "missing: ${need[*]} (SKIP_INSTALL=1)"
    log "installing ${need[*]}"
    apt-get update -q >/dev/null
    # Debian starts the packaged nginx/haproxy services where an init system runs; the benchmark neither uses
    # nor touches them (its servers have their own configs, ports and pid files).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
}

bench_setup() {  # bench_setup COMMAND...: installs what is missing, builds Portico, makes $WORK, sets the limits
    install_missing "$@"
    if (( $(nproc) < 2 )); then
        log "warning: one core only: proxies, wrk and backend all share cpu 0"
        CPU_LOAD=$CPU_PROXY
    fi
    if (( SKIP_BUILD == 0 )); then
        log "building Portico (mvn -B -q -DskipTests package)"
        local build_log
        build_log=$(mktemp /tmp/portico-bench-build.XXXXXX)
        if ! (cd "$ROOT" && mvn -B -q -DskipTests -Dstyle.color=never package) > "$build_log" 2>&1; then
            tail -40 "$build_log" >&2
            die "build failed (full log: $build_log)"
        fi
        rm -f "$build_log"
    fi
    [[ -r $ROOT/target/portico.jar ]] || die "target/portico.jar missing"

    WORK=$(mktemp -d /tmp/portico-bench.XXXXXX)
    chmod 755 "$WORK"  # nginx workers run as nobody and read the backend's files
    RAW=$WORK/raw
    METRICS=$WORK/metrics.tsv
    mkdir -p "$RAW" "$WORK/www" "$WORK/backend" "$WORK/nginx/extra" "$WORK/haproxy" "$WORK/portico"
    : > "$METRICS"
    PIDS=()          # every server this script started and has not stopped yet
    declare -gA PORT PID
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
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
    return 0
}

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
    local rc=$? i
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

# render TEMPLATE OUT PROXY_PORT. NGINX_HTTP_EXTRA, NGINX_LOCATION_EXTRA and PORTICO_ROUTE_EXTRA (one line each,
# empty for bench/run.sh) add directives to the proxies' configs: bench/cache.sh turns their caches on with them.
# PORTICO_LISTEN_EXTRA and PORTICO_ROUTES_EXTRA (a flow-style list item each) add a listener and a route: bench/run.sh
# adds TLS and a route with policies so. nginx and HAProxy get theirs as extra files (extra/*.conf, extra.cfg).
render() {
    sed -e "s|@WORK@|$WORK|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@PROXY_PORT@|${3:-0}|g" \
        -e "s|@NOFILE@|$NOFILE|g" -e "s|@MAXCONN@|$MAXCONN|g" -e "s|@WORKER_CONNECTIONS@|$WORKER_CONNECTIONS|g" \
        -e "s|@HTTP_EXTRA@|${NGINX_HTTP_EXTRA:-}|g" -e "s|@LOCATION_EXTRA@|${NGINX_LOCATION_EXTRA:-}|g" \
        -e "s|@ROUTE_EXTRA@|${PORTICO_ROUTE_EXTRA:-}|g" -e "s|@LISTEN_EXTRA@|${PORTICO_LISTEN_EXTRA:-}|g" \
        -e "s|@ROUTES_EXTRA@|${PORTICO_ROUTES_EXTRA:-}|g" \
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
            if [[ -f $WORK/haproxy/extra.cfg ]]; then cmd+=(-f "$WORK/haproxy/extra.cfg"); fi
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

record_cmdline() {  # record_cmdline NAME: the server's command line for the report, paths in the checkout relative
    # and the run's scratch directory written as <work>
    echo "$1 $(tr '\0' ' ' < "/proc/${PID[$1]}/cmdline" | sed -e "s|$ROOT/||g" -e "s|$WORK|<work>|g")" \
        >> "$WORK/cmdlines.txt"
}

metric() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$METRICS"; }  # phase target round name value
rss_of() { "$PY" "$BENCH/tools.py" rss "${PID[$1]}"; }

wrk_run() {  # wrk_run FILE CPU CONNS SECONDS PORT PATH
    taskset -c "$2" wrk -t1 -c"$3" -d"$4"s --latency "http://127.0.0.1:$5$6" > "$RAW/$1.txt" 2>&1 \
        || log "wrk exited non-zero for $1"
}

cds_training() {  # cds_training: makes bin/portico's class-data-sharing archive if it is not current
    # The first run records the classes a server run loads (it serves a few requests, so their classes are in the
    # list); the next start writes the archive from that list, so every measured start uses the same archive.
    [[ $ROOT/target/portico.jsa -nt $ROOT/target/portico.jar ]] && return 0
    log "creating Portico's CDS archive (one training run, then one start that writes it)"
    start_server portico "$CPU_PROXY"
    wrk_run cds-training "$CPU_LOAD" 10 1 "${PORT[portico]}" /small
    stop_pid "${PID[portico]}"
    start_server portico "$CPU_PROXY"
    stop_pid "${PID[portico]}"
    [[ -s $ROOT/target/portico.jsa ]] || log "warning: no CDS archive was written"
}
# What nginx.conf's plain server does for a request, for servers of nginx's written into extra/ (its TLS listeners).
# shellcheck disable=SC2016 # nginx's variables, for nginx
NGINX_PROXY='proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection "";
        proxy_set_header Host $http_host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header Via "1.1 nginx"; proxy_max_temp_file_size 0; add_header Via "1.1 nginx";'

bench_cert() {  # bench_cert DIR: a self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost: cert.pem, key.pem, both.pem
    local tls=$1
    mkdir -p "$tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null \
        || die "openssl could not make the benchmark's certificate"
    cat "$tls/cert.pem" "$tls/key.pem" > "$tls/both.pem"
    chmod 644 "$tls"/*.pem
}

rotated() {  # rotated ROUND ITEMS...: the items rotated left by ROUND-1, so no target is always first
    local r=$1; shift
    local items=("$@") n=$# i
    for (( i = 0; i < n; i++ )); do echo "${items[(i + r - 1) % n]}"; done
}

# Machine, versions and the command, as key=value lines for the report (meta.txt).
machine_meta() {
    echo "nproc=$(nproc)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel=$(uname -sr)"
    echo "java=$("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -2 | paste -sd ';' | sed 's/;/; /')"
    echo "nginx=$(nginx -v 2>&1 | sed 's/^nginx version: //')"
    if command -v haproxy >/dev/null; then echo "haproxy=$(haproxy -v | head -1 | sed 's/ - https.*//')"; fi
    echo "wrk=$(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//')"
    echo "portico=$("$ROOT/bin/portico" --version 2>&1 | head -1)"
    echo "command=$COMMAND"
    echo "nofile=$NOFILE"
    echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "date=$(date '+%F %T %Z')"
}

# finish NAME TARGET...: counts the problems the servers logged while under test (Portico: WARN/ERROR lines; nginx:
# [error] and worse; HAProxy: alerts and warnings), keeps the metrics, meta.txt and the configs as run with the raw
# outputs in $RESULTS_DIR/NAME.raw/, writes the report $RESULTS_DIR/NAME.md and prints it. The servers are stopped.
finish() {
    local name=$1 t f pattern; shift
    for t in "$@"; do
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
    for f in "$WORK"/backend/nginx.conf "$WORK"/nginx/nginx.conf "$WORK"/haproxy/haproxy.cfg \
             "$WORK"/portico/portico.yaml; do
        if [[ -f $f ]]; then cp "$f" "$RAW/config__$(basename "$(dirname "$f")").${f##*.}"; fi  # the configs as run
    done
    mkdir -p "$RESULTS_DIR"
    rm -rf "${RESULTS_DIR:?}/$name.raw"
    cp -r "$RAW" "$RESULTS_DIR/$name.raw"
    "$PY" "$BENCH/report.py" "$RESULTS_DIR/$name.raw" > "$RESULTS_DIR/$name.md"
    log "done in $(( SECONDS - T_START ))s: $RESULTS_DIR/$name.md (raw outputs in $RESULTS_DIR/$name.raw/)"
    cat "$RESULTS_DIR/$name.md"
}
