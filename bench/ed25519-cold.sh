#!/usr/bin/env bash
# Benchmark: one Ed25519 verification in a cold JVM, the JDK's against whatami's (script-fetcher's internal Ed25519),
# on JDK 17 and on 25 when found: each JVM with the launcher's flags and a class cache of its own mode's training
# (AppCDS on 17, AOT cache on 25), verifying RFC 8032's first vector twice. Reports per JDK and mode the medians of
# the first verification (provider, key and class set-up included, interpreted) and of the second. Runs interleaved.
# Nothing leaves the process. Usage: bench/ed25519-cold.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jdk.sh
runs=${1:-20}
[ -d script-fetcher/target/classes/dev/whatami/fetch/internal ] || ./mvnw -B -q -DskipTests install -pl script-fetcher -am
work=$(mktemp -d /tmp/whatami-ed25519-cold.XXXXXX)
trap 'rm -rf "$work"' EXIT
javac -d "$work/c" -cp script-fetcher/target/classes bench/Ed25519Cold.java
# jars only: an archive refuses a non-empty directory on the class path
(cd script-fetcher/target/classes && jar cf "$work/sf.jar" dev/whatami/fetch/internal/Ed25519.class)
(cd "$work/c" && jar cf "$work/bench.jar" Ed25519Cold.class)
cp="$work/bench.jar:$work/sf.jar"
# the launcher's own JVM flags
flags=$(sed -n 's/^flags="\(.*\)"$/\1/p' agent-app/src/main/resources/dev/whatami/agent/install/whatami-agent)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for v in 17 25; do
    java=$(find_jdk "$v") || { echo "JDK $v: not found, skipped"; continue; }
    for m in jdk whatami; do
        if [ "$v" = 17 ]; then
            # shellcheck disable=SC2086
            "$java" $flags -XX:ArchiveClassesAtExit="$work/$v-$m.jsa" -cp "$cp" Ed25519Cold "$m" >/dev/null 2>&1
            cache="-XX:SharedArchiveFile=$work/$v-$m.jsa"
        else
            # shellcheck disable=SC2086
            "$java" $flags -XX:AOTCacheOutput="$work/$v-$m.aot" -cp "$cp" Ed25519Cold "$m" >/dev/null 2>&1
            cache="-XX:AOTCache=$work/$v-$m.aot"
        fi
        echo "$cache" > "$work/$v-$m.flag"
    done
    for _ in $(seq 1 "$runs"); do
        for m in jdk whatami; do
            # shellcheck disable=SC2086
            "$java" $flags $(cat "$work/$v-$m.flag") -cp "$cp" Ed25519Cold "$m" >> "$work/$v-$m.out"
        done
    done
    for m in jdk whatami; do
        printf 'JDK %s %-8s first %6.2f ms  second %5.2f ms  (%s runs, medians)\n' "$v" "$m" \
            "$(cut -d' ' -f1 "$work/$v-$m.out" | median)" "$(cut -d' ' -f2 "$work/$v-$m.out" | median)" "$runs"
    done
done
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), machine: $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
