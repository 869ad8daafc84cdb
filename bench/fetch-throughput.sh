#!/usr/bin/env bash
# Benchmark: download a 1 GiB file on loopback with the ScriptFetcher (sha256 pinned, staged,
# fsynced, renamed) and with curl -o, in the same run; report MB/s, the ratio, and the fetcher's peak RSS.
# Loopback only. Needs: a JDK, curl, /usr/bin/time. Usage: bench/fetch-throughput.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[ -f agent-app/target/whatami-agent.jar ] && [ -f server-app/target/whatami-server.jar ] \
    || ./mvnw -B -q -DskipTests package -pl agent-app,server-app -am
work=$(mktemp -d /tmp/whatami-bench.XXXXXX)
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www" "$work/out"
head -c $((1 << 30)) /dev/urandom > "$work/www/big.bin"
sha=$(sha256sum "$work/www/big.bin" | cut -d' ' -f1)
port=18090
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
java -jar server-app/target/whatami-server.jar --root "$work/www" --port "$port" --bind 127.0.0.1 >"$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done
url="http://127.0.0.1:$port/scriptserver/big.bin"
curl -s -o /dev/null "$url"   # warm the server and the page cache

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rate() { awk -v t="$1" 'BEGIN {printf "%.1f", 1073741824 / t / 1e6}'; }
curl_rates=(); curl_sync_rates=(); fetch_rates=(); rss=()
for i in $(seq 1 "$runs"); do
    rm -f "$work/out/curl.bin"; sync
    t=$( { /usr/bin/time -f "%e" curl -s -o "$work/out/curl.bin" "$url"; } 2>&1 )
    sync
    curl_rates+=("$(rate "$t")")
    # the same durability as the fetcher, which fsyncs before it renames: curl, then sync the file
    rm -f "$work/out/curl.bin"; sync
    t=$( { /usr/bin/time -f "%e" sh -c "curl -s -o '$work/out/curl.bin' '$url' && sync '$work/out/curl.bin'"; } 2>&1 )
    curl_sync_rates+=("$(rate "$t")")
    rm -rf "$work/out/f"; sync
    line=$( { /usr/bin/time -f "RSS %M" java -cp agent-app/target/whatami-agent.jar bench/FetchBench.java "$url" \
        "$work/out/f" "$sha"; } 2>&1 )
    sync
    fetch_rates+=("$(echo "$line" | awk 'NR==1 {print $3}')")
    rss+=("$(echo "$line" | awk '/^RSS/ {print int($2/1024)}')")
done
c=$(printf '%s\n' "${curl_rates[@]}" | median)
cs=$(printf '%s\n' "${curl_sync_rates[@]}" | median)
f=$(printf '%s\n' "${fetch_rates[@]}" | median)
r=$(printf '%s\n' "${rss[@]}" | median)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(java -version 2>&1 | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), runs: $runs, file: 1 GiB random, server: whatami-server on loopback"
echo "curl -o             : median ${c} MB/s  (runs: ${curl_rates[*]})"
echo "curl -o && sync FILE: median ${cs} MB/s  (runs: ${curl_sync_rates[*]})"
echo "ScriptFetcher sha256: median ${f} MB/s  (runs: ${fetch_rates[*]}; staged, hashed, fsynced, renamed)"
echo "ratio fetcher/curl  : $(awk -v f="$f" -v c="$c" 'BEGIN {printf "%.2f", f / c}')  (to curl without sync)"
echo "ratio fetcher/curl+sync: $(awk -v f="$f" -v c="$cs" 'BEGIN {printf "%.2f", f / c}')  (same durability)"
echo "fetcher peak RSS    : median ${r} MiB  (runs: ${rss[*]}; includes the JVM compiling this benchmark's source)"
