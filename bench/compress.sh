#!/usr/bin/env bash
# Compression throughput: MiB/s of response body compressed (input, before compression) by Portico's compress
# policy (gzip level 5, br level 4, zstd level 3) and by nginx `gzip on` (gzip_comp_level 5), each a proxy with one
# event loop / worker pinned to core 0, in front of the same nginx backend serving a 128 KiB text file; wrk on
# core 1 asks with Accept-Encoding for one coding at a time. Loopback only; every server it starts runs from a
# `mktemp -d` directory in the foreground and is stopped by PID on exit.
#
#   bench/compress.sh                 # about 2 minutes: 10 s per measurement after a 10 s warm-up
#   DURATION=5 bench/compress.sh      # quicker
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
BODY_KIB=${BODY_KIB:-128}
for tool in nginx wrk curl taskset ss python3; do
    command -v "$tool" >/dev/null || { echo "compress.sh: needs $tool (apt-get install nginx wrk curl util-linux iproute2 python3)" >&2; exit 2; }
done
[[ -r $ROOT/target/portico.jar ]] || (cd "$ROOT" && mvn -B -q -DskipTests package)

WORK=$(mktemp -d /tmp/portico-compress.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

USED=" "
pick_port() {  # sets PICKED to a free port in 20000-31999 (below the ephemeral range), each picked once
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        [[ $USED == *" $p "* ]] && continue
        ss -Htan | awk -v p=":$p" '$4 ~ p"$" { used = 1 } END { exit used }' || continue
        USED+="$p "; PICKED=$p; return
    done
}
wait_port() {
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.1; done
    echo "compress.sh: nothing listens on $1" >&2; exit 1
}

pick_port; BACKEND=$PICKED; pick_port; NGINX=$PICKED; pick_port; PORTICO=$PICKED
mkdir -p "$WORK/www" "$WORK/backend" "$WORK/nginx"
# Text without long-range repeats (seeded words, as the tests' TextBody), so no coding wins by a larger window.
python3 - "$WORK/www/page.txt" "$BODY_KIB" <<'PY'
import random, sys
random.seed(1)
words = ("proxy stream window backend client header chunk encoder portico request response policy route flush "
         "bytes memory buffer event loop netty gzip brotli zstd the a of to and in is for on with that this it as "
         "be by at from").split()
out, n = [], int(sys.argv[2]) * 1024
while sum(map(len, out)) < n:
    out.append(random.choice(words) + (".\n" if random.randrange(12) == 0 else " "))
    if random.randrange(40) == 0:
        out.append(str(random.getrandbits(63)) + " ")
open(sys.argv[1], "w").write("".join(out)[:n])
PY

common="daemon off; master_process off; worker_processes 1; events { worker_connections 1024; }"
temps() { echo "client_body_temp_path $1/cb; proxy_temp_path $1/px; fastcgi_temp_path $1/fc; uwsgi_temp_path $1/uw; scgi_temp_path $1/sc;"; }
cat > "$WORK/backend.conf" <<CONF
$common pid $WORK/backend/pid; error_log $WORK/backend/error.log warn;
http { access_log off; default_type text/plain; sendfile on; keepalive_requests 1000000000; $(temps "$WORK/backend")
  server { listen 127.0.0.1:$BACKEND; root $WORK/www; } }
CONF
cat > "$WORK/nginx.conf" <<CONF
$common pid $WORK/nginx/pid; error_log $WORK/nginx/error.log warn;
http { access_log off; keepalive_requests 1000000000; $(temps "$WORK/nginx")
  upstream b { server 127.0.0.1:$BACKEND; keepalive 64; }
  gzip on; gzip_comp_level 5; gzip_min_length 1024; gzip_proxied any; gzip_types text/plain; gzip_vary on;
  server { listen 127.0.0.1:$NGINX;
    location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat > "$WORK/portico.yaml" <<CONF
listen: 127.0.0.1:$PORTICO
workers: 1
access_log: {enabled: false}
limits: {max_requests_per_connection: 1000000}
routes:
  - path: /
    upstream: http://127.0.0.1:$BACKEND
    policies: [{compress: {level: {gzip: 5, br: 4, zstd: 3}}}]
CONF

taskset -c 1 nginx -e "$WORK/backend/error.log" -c "$WORK/backend.conf" -p "$WORK/backend" & PIDS+=($!)
taskset -c 0 nginx -e "$WORK/nginx/error.log" -c "$WORK/nginx.conf" -p "$WORK/nginx" & PIDS+=($!)
taskset -c 0 "$ROOT/bin/portico" --config "$WORK/portico.yaml" > "$WORK/portico.log" 2>&1 & PIDS+=($!)
wait_port "$BACKEND"; wait_port "$NGINX"; wait_port "$PORTICO"

measure() {  # name port coding -> one table row
    local size ratio rps
    size=$(curl -s -H "Accept-Encoding: $3" "http://127.0.0.1:$2/page.txt" -D "$WORK/h" | wc -c)
    grep -qi "^content-encoding: $3" "$WORK/h" || { echo "compress.sh: $1 did not answer with $3" >&2; exit 1; }
    ratio=$(python3 -c "print(f'{$BODY_KIB * 1024 / $size:.2f}')")
    rps=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" -H "Accept-Encoding: $3" "http://127.0.0.1:$2/page.txt" \
        | awk '/Requests\/sec/ { print $2 }')
    printf '| %-22s | %-6s | %10s | %12s | %6s |\n' "$1" "$3" "$rps" \
        "$(python3 -c "print(f'{$rps * $BODY_KIB / 1024:.1f}')")" "$ratio"
}

# Warm-up: the JIT compiles Portico's paths, nginx fills its caches.
for c in gzip br zstd; do
    taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" -H "Accept-Encoding: $c" "http://127.0.0.1:$PORTICO/page.txt" >/dev/null
done
echo "body: ${BODY_KIB} KiB of text; $CONNS connections; ${DURATION} s each; proxy on core 0, backend and wrk on core 1"
echo "| proxy                  | coding | requests/s | input MiB/s  | ratio  |"
echo "|------------------------|--------|-----------:|-------------:|-------:|"
measure "nginx gzip on (5)" "$NGINX" gzip
measure "Portico gzip 5" "$PORTICO" gzip
measure "Portico br 4" "$PORTICO" br
measure "Portico zstd 3" "$PORTICO" zstd
