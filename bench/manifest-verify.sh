#!/usr/bin/env bash
# Benchmark: what verifying a signed manifest adds to a boot. Fresh JVMs fetch one script from a loopback server with
# nothing vouching (none), a per-script .sig (sig) and a signed manifest (manifest: keys.json, manifest.json and their
# .minisig, four more requests and four Ed25519 verifications); reports the median first-fetch time of each mode over
# the runs, the warm median, and manifest minus none. Loopback only. Needs a JDK.
# Usage: bench/manifest-verify.sh [runs] [warm fetches per JVM]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
warm=${2:-200}
[ -f agent-app/target/whatami-agent.jar ] || ./mvnw -B -q -DskipTests package -pl agent-app -am
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A first warmed
for mode in none sig manifest; do first[$mode]=""; warmed[$mode]=""; done
for i in $(seq 1 "$runs"); do
    for mode in none sig manifest; do   # interleaved, so drift on a shared machine hits every mode alike
        read -r _ f w < <(java -cp agent-app/target/whatami-agent.jar bench/ManifestBench.java "$mode" "$warm")
        first[$mode]+="$f"$'\n'; warmed[$mode]+="$w"$'\n'
    done
done
echo "machine: $(nproc) cores, $(java -version 2>&1 | head -1); $runs fresh JVMs per mode, $warm warm fetches each"
for mode in none sig manifest; do
    printf '%-9s first fetch (cold JVM) median %7.2f ms   warm median %6.3f ms\n' "$mode" \
        "$(printf '%s' "${first[$mode]}" | median)" "$(printf '%s' "${warmed[$mode]}" | median)"
done
fn=$(printf '%s' "${first[none]}" | median); fs=$(printf '%s' "${first[sig]}" | median)
fm=$(printf '%s' "${first[manifest]}" | median)
wn=$(printf '%s' "${warmed[none]}" | median); wm=$(printf '%s' "${warmed[manifest]}" | median)
ws=$(printf '%s' "${warmed[sig]}" | median)
awk -v fn="$fn" -v fs="$fs" -v fm="$fm" -v wn="$wn" -v ws="$ws" -v wm="$wm" 'BEGIN {
    printf "manifest - none: first %+.2f ms, warm %+.3f ms\n", fm - fn, wm - wn
    printf "manifest - sig:  first %+.2f ms, warm %+.3f ms\n", fm - fs, wm - ws }'
