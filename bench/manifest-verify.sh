#!/usr/bin/env bash
# Benchmark: what verifying a signed manifest adds to a boot. Fresh JVMs fetch one 4 KiB script from a loopback server
# with nothing vouching (none), with a per-script .sig (sig), with a signed manifest on a first boot (manifest:
# keys.json, manifest.json and their .minisig fetched, two Ed25519 verifications, the state file written) and on a
# later boot that meets the same documents (again: two requests, no verification). Reports each mode's median over the
# runs of the first fetch in a cold JVM and of the warm median, and the differences. Loopback only. Needs a JDK.
# Usage: bench/manifest-verify.sh [runs] [warm fetches per JVM]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
warm=${2:-100}
[ -f agent-app/target/whatami-agent.jar ] || ./mvnw -B -q -DskipTests package -pl agent-app -am
work=$(mktemp -d /tmp/whatami-manifest-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
javac -cp agent-app/target/whatami-agent.jar -d "$work/classes" bench/ManifestBench.java
modes="none sig manifest again"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A first warmed
for i in $(seq 1 "$runs"); do
    for mode in $modes; do   # interleaved, so drift on a shared machine hits every mode alike; again after manifest
        read -r _ f w < <(java -cp "agent-app/target/whatami-agent.jar:$work/classes" ManifestBench "$mode" "$warm" \
            "$work/run")
        first[$mode]+="$f"$'\n'; warmed[$mode]+="$w"$'\n'
    done
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(java -version 2>&1 | head -1)"
echo "$runs fresh JVMs per mode, $warm warm fetches each"
declare -A fm wm
for mode in $modes; do
    fm[$mode]=$(printf '%s' "${first[$mode]}" | median); wm[$mode]=$(printf '%s' "${warmed[$mode]}" | median)
    printf '%-9s first fetch (cold JVM) median %7.2f ms   warm median %6.3f ms\n' "$mode" "${fm[$mode]}" "${wm[$mode]}"
done
for pair in "manifest none" "manifest sig" "again none" "again sig"; do
    set -- $pair
    awk -v a="$1" -v b="$2" -v fa="${fm[$1]}" -v fb="${fm[$2]}" -v wa="${wm[$1]}" -v wb="${wm[$2]}" \
        'BEGIN { printf "%-8s - %-4s first %+7.2f ms   warm %+7.3f ms\n", a, b, fa - fb, wa - wb }'
done
