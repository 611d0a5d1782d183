#!/usr/bin/env bash
# CPU per proxied request with tracing off, sampled out (ratio 0) and at ratio 1 (spans exported to an OTLP/HTTP
# receiver in the same JVM), as ratios to "off": TracingBenchmark (JMH) run ROUNDS times per setting, the settings
# interleaved and their order rotated each round, everything pinned to one core (CORE). Prints each trial's figures
# and the medians. Usage: bench/tracing.sh            (ROUNDS=3 CORE=0: about 9 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
core=${CORE:-0}
build="${JMH_BUILD_DIR:-$PWD/target-jmh}"
mvn -B -q -Pjmh -DskipTests -Dportico.buildDir="$build" test-compile
mvn -B -q -Pjmh -Dportico.buildDir="$build" dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$build/jmh.classpath" >/dev/null
cp="$build/test-classes:$build/classes:$(cat "$build/jmh.classpath")"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
settings=(off ratio0 ratio1)
for ((r = 0; r < rounds; r++)); do
    for ((i = 0; i < 3; i++)); do
        s=${settings[$(((i + r) % 3))]}
        taskset -c "$core" java -cp "$cp" org.openjdk.jmh.Main TracingBenchmark -p tracing="$s" 2>&1 \
            | grep '^tracing=' | tee -a "$out"
    done
done
python3 - "$out" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"tracing=(\w+): event loop ([\d.]+) us CPU and (\d+) bytes.*export threads ([\d.]+) us", line)
    if m:
        rows.setdefault(m[1], []).append((float(m[2]), int(m[3]), float(m[4])))
med = {k: (statistics.median(v[0] + v[2] for v in vs), statistics.median(v[0] for v in vs),
           statistics.median(v[2] for v in vs), statistics.median(v[1] for v in vs)) for k, vs in rows.items()}
base = med["off"][0]
print("setting  rounds  loop_us  export_us  total_us  ratio_to_off  loop_bytes_per_request")
for k in ("off", "ratio0", "ratio1"):
    t, l, e, b = med[k]
    print(f"{k:7} {len(rows[k]):6} {l:8.1f} {e:10.2f} {t:9.1f} {t / base:13.2f} {b:23}")
PY
