#!/usr/bin/env bash
# Runs Portico's JMH microbenchmarks (route lookup, head rewrite, one proxied request with its allocation).
# Usage: bench/jmh.sh [JMH options...], e.g. bench/jmh.sh RouterBenchmark -prof gc
set -euo pipefail
cd "$(dirname "$0")/.."
build="${JMH_BUILD_DIR:-target}"
mvn -B -q -Pjmh -DskipTests -Dportico.buildDir="$build" test-compile
mvn -B -q -Pjmh -Dportico.buildDir="$build" dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$build/jmh.classpath" >/dev/null
exec java -cp "$build/test-classes:$build/classes:$(cat "$build/jmh.classpath")" org.openjdk.jmh.Main "$@"
