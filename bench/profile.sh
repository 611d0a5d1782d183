#!/usr/bin/env bash
# Where Portico's CPU time per request, memory and start-up go: one Portico (bin/portico, one event loop, pinned to
# CPU_PROXY) in front of bench/run.sh's nginx backend, loaded by wrk on CPU_LOAD as in bench/run.sh's phase 1.
#
#   bench/profile.sh                      # about 2 minutes
#   DURATION=10 IDLE_CONNS=2000 bench/profile.sh
#
# Writes $RESULTS_DIR/<date>-profile.md with:
#   - start-up: time to "listening", classes loaded (and how many came from the class-data-sharing archive) and the
#     first class loaded of each library, in order (a timeline of -Xlog:class+load);
#   - CPU: each thread's CPU time under load (event loop, JIT compilers, GC...), CPU time per request, and the event
#     loop's JFR CPU samples split into the parts of a request (bench/profile.py jfr), its allocation by class/site;
#   - memory: RSS by mapping and the JVM's native memory tracking summary, idle after start and after load;
#     the Java heap each idle keep-alive connection holds (class histogram with and without IDLE_CONNS of them, right
#     after their requests and after IDLE_QUIET seconds of quiet).
# Portico runs with -XX:NativeMemoryTracking=summary (a little more RSS and CPU than without) and class-load
# logging; bench/run.sh gives the reference figures. Needs the JDK's jcmd, jmap and jfr.
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
DURATION=${DURATION:-20}            # seconds of the profiled wrk run
WARM_DURATION=${WARM_DURATION:-15}  # seconds of wrk before it (the JIT's warm-up)
CONNS=${CONNS:-50}
IDLE_CONNS=${IDLE_CONNS:-4000}      # idle keep-alive connections for the per-connection heap figure
IDLE_QUIET=${IDLE_QUIET:-3}         # seconds of quiet before the second heap figure (tools.py idle holds them 8 s)
CPU_PROXY=${CPU_PROXY:-0}
CPU_LOAD=${CPU_LOAD:-1}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
COMMAND="DURATION=$DURATION WARM_DURATION=$WARM_DURATION CONNS=$CONNS IDLE_CONNS=$IDLE_CONNS CPU_PROXY=$CPU_PROXY"
COMMAND+=" CPU_LOAD=$CPU_LOAD${JAVA_OPTS:+ JAVA_OPTS=\"$JAVA_OPTS\"} bench/profile.sh"

source "$BENCH/lib.sh"
bench_setup nginx wrk
for c in jcmd jmap jfr; do command -v "$c" >/dev/null || die "$c not found (a JDK, not a JRE, is needed)"; done
pick_port; BACKEND_PORT=$PICKED
pick_port; PORT[portico]=$PICKED
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/www/small"
head -c 1048576 /dev/urandom > "$WORK/www/large"
start_server backend "$CPU_LOAD"
PROFILE=$WORK/profile
mkdir -p "$PROFILE"
prof() { "$PY" "$BENCH/profile.py" "$@"; }

# The class-data-sharing archive as bench/run.sh makes it.
cds_training

export JAVA_OPTS="${JAVA_OPTS:-} -XX:NativeMemoryTracking=summary -Xlog:class+load=info:file=$PROFILE/classes.log"
start_server portico "$CPU_PROXY"
P=${PID[portico]}
log "Portico ready in $READY_MS ms (pid $P)"
sleep 3
prof smaps "$P" > "$PROFILE/smaps-idle.md"
jcmd "$P" VM.native_memory summary > "$PROFILE/nmt-idle.txt"

log "warm-up: ${WARM_DURATION}s of wrk -c$CONNS; then ${DURATION}s profiled (JFR, thread CPU)"
wrk_run warm "$CPU_LOAD" "$CONNS" "$WARM_DURATION" "${PORT[portico]}" /small
jcmd "$P" JFR.start name=profile settings=profile > /dev/null
c0=$("$PY" "$BENCH/tools.py" cpu "$P")
wrk_run load "$CPU_LOAD" "$CONNS" "$DURATION" "${PORT[portico]}" /small &
wrk_pid=$!
prof threads "$P" "$(( DURATION - 1 ))" > "$PROFILE/threads.md"
wait "$wrk_pid"
c1=$("$PY" "$BENCH/tools.py" cpu "$P")
jcmd "$P" JFR.stop name=profile filename="$PROFILE/load.jfr" > /dev/null
requests=$(awk '/requests in/ {print $1}' "$RAW/load.txt")
sleep 3  # bin/portico trims the native heap every 2 s
prof smaps "$P" > "$PROFILE/smaps-after.md"
jcmd "$P" VM.native_memory summary > "$PROFILE/nmt-after.txt"

log "idle connections: $IDLE_CONNS, Java heap before and with them"
jmap -histo:live "$P" > "$PROFILE/histo-0.txt"
"$PY" "$BENCH/tools.py" idle --port "${PORT[portico]}" --n "$IDLE_CONNS" --pids "$P" --settle 8 \
    > "$PROFILE/idle.json" &
idle_pid=$!
sleep 1
established() { ss -Htn state established "( sport = :${PORT[portico]} )" | wc -l; }
until [[ -s $PROFILE/idle.json ]] || (( $(established) >= IDLE_CONNS )); do
    sleep 0.2
done
held=$(established)
jmap -histo:live "$P" > "$PROFILE/histo-1.txt"
# A connection quiet for a tick of its event loop's idle sweep (timeouts.idle / 4, at most 1 s) gives back its
# decoder and encoder: the second histogram is of idle connections in that state (tools.py still holds them).
sleep "$IDLE_QUIET"
jmap -histo:live "$P" > "$PROFILE/histo-2.txt"
wait "$idle_pid" || true
stop_pid "$P"
stop_pid "${PID[backend]}"

nmt() {  # the summary's committed KiB per category
    grep -E '^(Total|-)' "$1" \
        | sed -E 's/\(reserved=[0-9]+KB, committed=([0-9]+)KB\)/\1/; s/reserved=[0-9]+KB, committed=([0-9]+)KB/\1/'
}
loaded=$(grep -c 'class,load' "$PROFILE/classes.log" || true)
shared=$(grep -c 'shared objects file' "$PROFILE/classes.log" || true)
out=$RESULTS_DIR/$(date +%F)-profile.md
mkdir -p "$RESULTS_DIR"
{
    echo "# Where Portico's time and memory go: $(date '+%F %T %Z')"
    echo
    echo "One Portico (\`bin/portico\`, \`workers: 1\`, pinned to cpu $CPU_PROXY) in front of the nginx backend of"
    echo "bench/run.sh, \`wrk -t1 -c$CONNS\` on \`/small\` (1 KiB) from cpu $CPU_LOAD. Load average at the end:"
    echo "$(cut -d' ' -f1-3 /proc/loadavg). Command: \`$COMMAND\`."
    echo
    echo "## CPU under load"
    echo
    echo "$requests requests in ${DURATION} s; Portico's CPU time per request (all threads):"
    echo "$(awk -v a="$c0" -v b="$c1" -v n="$requests" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }') us."
    echo
    cat "$PROFILE/threads.md"
    echo
    prof jfr "$PROFILE/load.jfr"
    echo
    echo "Allocation on the event loop (JFR allocation samples, by weight):"
    echo
    prof alloc "$PROFILE/load.jfr"
    echo
    echo "## Memory"
    echo
    echo "Idle, 3 s after start:"
    echo
    cat "$PROFILE/smaps-idle.md"
    echo
    echo "After the load (and 3 s):"
    echo
    cat "$PROFILE/smaps-after.md"
    echo
    echo "Native memory tracking (committed KiB), idle and after the load:"
    echo
    echo '```'
    paste <(nmt "$PROFILE/nmt-idle.txt") <(nmt "$PROFILE/nmt-after.txt" | sed 's/^/    | /')
    echo '```'
    echo
    echo "Idle keep-alive connections: $held held when the histogram was taken; RSS figures of tools.py idle:"
    echo "\`$(cat "$PROFILE/idle.json")\`"
    echo
    echo "Right after the last of them was answered:"
    echo
    prof histo "$PROFILE/histo-0.txt" "$PROFILE/histo-1.txt" "$held"
    echo
    echo "After $IDLE_QUIET s more of quiet (the connections as they stay while idle):"
    echo
    prof histo "$PROFILE/histo-0.txt" "$PROFILE/histo-2.txt" "$held"
    echo
    echo "## Start-up"
    echo
    echo "Ready (\"listening on\") after $READY_MS ms (with class-load logging). Classes loaded by the end: $loaded,"
    echo "$shared of them from the class-data-sharing archives. By library (package prefix), in the order first"
    echo "loaded: the seconds since the JVM started of its first and last class loaded before it was ready, and how many"
    echo "(the time between one library's first class and the next one's is roughly what the first costs):"
    echo
    echo "| library | first class at, s | last, s | classes |"
    echo "|---|---:|---:|---:|"
    awk -v ready="$READY_MS" '{ t = substr($1, 2, index($1, "s]") - 2); n = split($2, p, "."); d = (p[1] == "dev" ? 4 : 3)
           if (t * 1000 > ready) exit
           if ($2 ~ /^(java|jdk|sun)\./) next
           if (d > n - 1) d = n - 1; k = p[1]; for (i = 2; i <= d; i++) k = k "." p[i]
           if (!(k in first)) { first[k] = t; order[++m] = k } last[k] = t; count[k]++ }
         END { for (i = 1; i <= m; i++) { k = order[i]
               if (count[k] >= 5) printf "| %s | %.3f | %.3f | %d |\n", k, first[k], last[k], count[k] } }' \
        "$PROFILE/classes.log"
} > "$out"
log "done: $out"
cat "$out"
