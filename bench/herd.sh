#!/usr/bin/env bash
# Benchmark: a herd of simulated agents (bench/Herd.java: the real MetadataClient for the IMDSv2 token
# and user-data, the real ScriptFetcher for the script and its signature — sha256 pin, Ed25519 required —, then
# the two reports of a one-task run; every step under exactly the agent's own retry policy and timeouts — the
# reports under ReportPolicy.forBudget(30 s, the default budget), as the agent's Reporter; jittered starts) against whatami-server, on loopback:
#   A. one server (scripts, reports and the metadata emulator, IMDSv2 required);
#   B. the same, the server starting 10 s after the agents (the retries must spread: no thundering herd);
#   C. PostgreSQL, two servers behind nginx as a load balancer, one killed (SIGKILL) mid-herd: every report lands.
# Prints p50/p99 per step, errors, server RSS and CPU, reports sent vs received. Loopback only.
# Needs: a JDK, curl; for C also PostgreSQL (/usr/lib/postgresql/N/bin) and nginx (skipped without them).
# Usage: bench/herd.sh [agents]   (default 1000); HERD_ONLY=C runs only the scenarios named; HERD_ARGS="report-budget=PT30S" passes settings to Herd.java
set -euo pipefail
cd "$(dirname "$0")/.."
agents=${1:-1000}
only=${HERD_ONLY:-ABC} # which scenarios, e.g. HERD_ONLY=C
bench_name=herd
# shellcheck source=bench/lib.sh
. bench/lib.sh
now_ms() { date +%s%3N; }
json_int() { sed -n "s/.*\"$1\" *: *\([0-9][0-9]*\).*/\1/p" | head -1; }
# received BASE: instances the server has a report of, and how many of them ended (their final report landed)
received() {
    echo "$(curl -s "$1/status.json?per=1" | json_int matching) instances, $(curl -s "$1/status.json?per=1&state=done" \
        | json_int matching) of them done"
}

# the script, its signature, the key
mkdir -p "$work/www"
printf '#!/bin/sh\necho "collector for $1"\n' > "$work/www/collector.sh"
java -jar "$server_jar" keygen --out "$work/keys" >/dev/null
java -jar "$server_jar" sign --key "$work/keys/whatami-signing.key" "$work/www/collector.sh" >/dev/null
pub=$work/keys/whatami-signing.pub
sha=$(sha256sum "$work/www/collector.sh" | cut -d' ' -f1)
user_data="collector.sh 10.0.0.1"

# start_server NAME PORT ARGS... — in the background; sets $srv to its pid once it listens; writes $work/NAME.started
start_server() {
    local name=$1 port=$2
    shift 2
    java -jar "$server_jar" --root "$work/www" --port "$port" --bind 127.0.0.1 "$@" >"$work/$name.log" 2>&1 &
    srv=$!
    pids+=("$srv")
    for _ in $(seq 1 300); do
        grep -q listening "$work/$name.log" && { now_ms > "$work/$name.started"; return 0; }
        kill -0 "$srv" 2>/dev/null || { echo "$name did not start:"; cat "$work/$name.log"; exit 1; }
        sleep 0.05
    done
    echo "$name did not listen within 15 s"; cat "$work/$name.log"; exit 1
}

herd() { # herd TAG METADATA FILES REPORTS [KEY=VALUE...]
    local tag=$1 md=$2 files=$3 reports=$4
    shift 4
    mkdir -p "$work/agents-$tag"
    # the agents run niced: on a real fleet they are other machines, and 1,000 runnable threads here would otherwise
    # take the servers' (and PostgreSQL's) CPU — the bench would measure the harness starving the system under test
    nice -n 10 java -Xss256k -cp "$agent_jar" bench/Herd.java metadata="$md" files="$files" reports="$reports" pubkey="$pub" \
        sha256="$sha" agents="$agents" work="$work/agents-$tag" tag="$tag" ${HERD_ARGS:-} "$@" 2> >(grep -v '^Note:' >&2)
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(java -version 2>&1 | head -1)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), agents: $agents"
echo "load before: $(uptime | sed 's/.*load average/load average/')"

if [[ $only == *A* ]]; then
echo
echo "== A. $agents agents, one server (jittered over 5 s)"
port=$(free_port)
start_server a "$port" --metadata-user-data-text "$user_data" --imds-v2-required
base="http://127.0.0.1:$port"
cpu0=$(cpu_s "$srv")
herd a "$base" "$base/scriptserver/" "$base/reports" spread-ms=5000
echo "server: peak RSS $(rss_mib "$srv") MiB (since start), CPU $(awk -v a="$(cpu_s "$srv")" -v b="$cpu0" 'BEGIN {printf "%.1f", a - b}') s during the herd"
echo "reports received (server's /status.json): $(received "$base")"
kill "$srv"; wait "$srv" 2>/dev/null || true

fi

if [[ $only == *B* ]]; then
echo
echo "== B. $agents agents, the server starting 10 s after the first agent (jittered over 5 s)"
port=$(free_port)
base="http://127.0.0.1:$port"
herd b "$base" "$base/scriptserver/" "$base/reports" spread-ms=5000 server-started-file="$work/b.started" \
    > "$work/b.out" &
herd_pid=$!
pids+=("$herd_pid")
sleep 10
start_server b "$port" --metadata-user-data-text "$user_data" --imds-v2-required
cpu0=$(cpu_s "$srv")
wait "$herd_pid" || true
cat "$work/b.out"
echo "server: peak RSS $(rss_mib "$srv") MiB (since start), CPU $(awk -v a="$(cpu_s "$srv")" -v b="$cpu0" 'BEGIN {printf "%.1f", a - b}') s during the herd"
echo "reports received (server's /status.json): $(received "$base")"
kill "$srv"; wait "$srv" 2>/dev/null || true

fi

if [[ $only == *C* ]]; then
echo
echo "== C. PostgreSQL, two servers behind nginx (round robin), one killed mid-herd (jittered over 10 s)"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
nginx=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
if [ -z "$pgbin" ] || [ -z "$nginx" ]; then
    echo "SKIPPED: needs PostgreSQL (apt-get install postgresql-15) and nginx (apt-get install nginx)"
    exit 0
fi
start_postgres "$pgbin"
# the instances' metadata service is their own (not behind the file servers): one emulator
mdport=$(free_port)
start_server md "$mdport" --metadata-user-data-text "$user_data" --imds-v2-required
p1=$(free_port); p2=$(free_port)
while [ "$p2" = "$p1" ]; do p2=$(free_port); done
WHATAMI_DATABASE_PASSWORD=$pw start_server s1 "$p1" --database "$db" --database-user whatami
s1=$srv
WHATAMI_DATABASE_PASSWORD=$pw start_server s2 "$p2" --database "$db" --database-user whatami
s2=$srv
lbport=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fcgi;
  uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  upstream whatami { server 127.0.0.1:$p1 max_fails=1 fail_timeout=5s; server 127.0.0.1:$p2 max_fails=1 fail_timeout=5s; keepalive 16; }
  server {
    listen 127.0.0.1:$lbport;
    location / {
      proxy_pass http://whatami;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # as docs/server.md recommends: a report POST whose server died under it is passed on (reports are idempotent);
      # a 503 is not (http_503 would count a busy server as failed: with the other one dead, nginx's own 502s)
      proxy_next_upstream error timeout non_idempotent;
      proxy_connect_timeout 2s;
    }
  }
}
EOF
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >"$work/nginx/out" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$lbport") 2>/dev/null && break; sleep 0.05; done
lb="http://127.0.0.1:$lbport"
cpu1=$(cpu_s "$s1"); cpu2=$(cpu_s "$s2")
herd c "http://127.0.0.1:$mdport" "$lb/scriptserver/" "$lb/reports" spread-ms=10000 \
    progress-file="$work/c.progress" > "$work/c.out" &
herd_pid=$!
pids+=("$herd_pid")
killed=""
while kill -0 "$herd_pid" 2>/dev/null; do
    n=$(cat "$work/c.progress" 2>/dev/null || echo 0)
    if [ -z "$killed" ] && [ "${n:-0}" -ge $((agents / 3)) ]; then
        c1=$(awk -v a="$(cpu_s "$s1")" -v b="$cpu1" 'BEGIN {printf "%.1f", a - b}'); r1=$(rss_mib "$s1")
        { kill -9 "$s1"; wait "$s1"; } 2>/dev/null || true
        killed="server 1 (SIGKILL) after $n reports sent, at $(date -u +%H:%M:%S)"
    fi
    sleep 0.2
done
wait "$herd_pid" || true
cat "$work/c.out"
echo "killed: ${killed:-nothing (the herd ended first)}"
echo "server 1: peak RSS ${r1:-?} MiB, CPU ${c1:-?} s until killed; server 2: peak RSS $(rss_mib "$s2") MiB, CPU $(awk -v a="$(cpu_s "$s2")" -v b="$cpu2" 'BEGIN {printf "%.1f", a - b}') s"
echo "reports received (in PostgreSQL, server 2's /status.json): $(received "http://127.0.0.1:$p2")"
echo "  the same through nginx: $(received "$lb")"
echo "nginx: $(grep -c 'upstream' "$work/nginx/error.log" || true) upstream errors logged (connections to the killed server)"
fi
echo "load after: $(uptime | sed 's/.*load average/load average/')"
