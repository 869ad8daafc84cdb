#!/usr/bin/env bash
# Benchmark: what verifying a signed manifest adds to a boot. Fresh JVMs fetch one 4 KiB script from a loopback server
# with nothing vouching (none), with a per-script .sig (sig), with a signed manifest on a first boot (manifest:
# keys.json, manifest.json and their .minisig fetched, two Ed25519 verifications, the state file written) and on a
# later boot that meets the same documents (again: two requests, no verification). Reports, per mode, the median over
# the runs of the first fetch in a cold JVM and of the warm median, as wall time and as the fetching thread's CPU time
# (less disturbed by other load on the machine), and the differences. Loopback only. Needs a JDK.
# Usage: bench/manifest-verify.sh [runs] [warm fetches per JVM]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
warm=${2:-100}
[ -f agent-app/target/whatami-agent.jar ] || ./mvnw -B -q -DskipTests package -pl agent-app -am
work=$(mktemp -d /tmp/whatami-manifest-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
javac -cp agent-app/target/whatami-agent.jar -d "$work/classes" bench/ManifestBench.java
cp="agent-app/target/whatami-agent.jar:$work/classes"
modes="none sig manifest again"
java -cp "$cp" ManifestBench prepare 0 "$work/run"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A col
load0=$(cut -d' ' -f1 /proc/loadavg)
for i in $(seq 1 "$runs"); do
    for mode in $modes; do   # interleaved, so drift on a shared machine hits every mode alike; again after manifest
        read -r _ fw fc ww wc < <(java -cp "$cp" ManifestBench "$mode" "$warm" "$work/run")
        col[$mode.fw]+="$fw"$'\n'; col[$mode.fc]+="$fc"$'\n'; col[$mode.ww]+="$ww"$'\n'; col[$mode.wc]+="$wc"$'\n'
    done
done
echo "machine: $(nproc) cores, $(java -version 2>&1 | head -1), load average $load0 at the start, $(cut -d' ' -f1 /proc/loadavg) at the end"
echo "$runs fresh JVMs per mode (interleaved), $warm warm fetches each; medians in ms"
declare -A m
printf '%-9s %12s %12s %12s %12s\n' mode first-wall first-cpu warm-wall warm-cpu
for mode in $modes; do
    for k in fw fc ww wc; do m[$mode.$k]=$(printf '%s' "${col[$mode.$k]}" | median); done
    printf '%-9s %12.2f %12.2f %12.3f %12.3f\n' "$mode" "${m[$mode.fw]}" "${m[$mode.fc]}" "${m[$mode.ww]}" "${m[$mode.wc]}"
done
for pair in "manifest none" "manifest sig" "again none"; do
    set -- $pair
    awk -v n="$1 - $2" -v a="${m[$1.fw]}" -v b="${m[$2.fw]}" -v c="${m[$1.fc]}" -v d="${m[$2.fc]}" \
        -v e="${m[$1.ww]}" -v f="${m[$2.ww]}" -v g="${m[$1.wc]}" -v h="${m[$2.wc]}" \
        'BEGIN { printf "%-16s %+10.2f %+12.2f %+12.3f %+12.3f\n", n, a - b, c - d, e - f, g - h }'
done
