#!/usr/bin/env bash
# Benchmark: a fleet of 100,000 booting instances reporting into two whatami-servers sharing one PostgreSQL
# (bench/Fleet.java: each simulated agent sends its two reports as the agent's Reporter does, with the fleet's report
# token and its own instance key, retrying under the agent's report policy; agents start uniformly over the window),
# then the fleet status page read at that size. Prints reports/s while the fleet boots, latency percentiles, attempts,
# the CPU the boot cost (servers, PostgreSQL by process kind, the generator; read before the pages are), sequential
# scans of the table, what PostgreSQL holds after, server RSS, page p50/p95. Loopback only.
# Needs: a JDK, curl, PostgreSQL (/usr/lib/postgresql/N/bin).
# Usage: bench/fleet.sh [agents] [window-s]   (defaults 100000 and 60: 200,000 reports, ~3,300/s offered)
#        FLEET_ARGS="inflight=512" passes settings to Fleet.java; FLEET_SERVER_ARGS and FLEET_SERVER_JAVA_OPTS to both
#        servers (e.g. FLEET_SERVER_JAVA_OPTS=-XX:StartFlightRecording=filename=/tmp/s.jfr to profile them);
#        FLEET_WARMUP=AGENTS:SECONDS first sends that many other instances' reports (ids i-w-N) and waits 10 s, so the
#        servers' JIT has compiled the report path before the fleet is measured (a fleet's servers have been running
#        for days when it boots; a cold JVM spent ~45% of its CPU in the C2 compiler during a 60 s run). Those
#        instances stay in the store: the page is then read at AGENTS more.
#        The servers run with the package launcher's JVM flags (/usr/bin/whatami-server). SERVER_JAR= runs another
#        build's server; PG_OPTS= adds PostgreSQL settings (with pg_stat_statements preloaded, its top statements print).
set -euo pipefail
cd "$(dirname "$0")/.."
agents=${1:-100000}
window=${2:-60}
bench_name=fleet
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$pgbin" ] || { echo "SKIPPED: needs PostgreSQL (apt-get install postgresql-15)"; exit 0; }
# shellcheck source=bench/lib.sh
. bench/lib.sh
# CPU of PostgreSQL: the postmaster and its children, living and reaped (cutime/cstime)
pg_cpu() { local s=0; for p in $pgpid $(pgrep -P "$pgpid"); do s=$(awk -v t="$ticks" -v s="$s" '{printf "%.1f", s + ($14 + $15 + $16 + $17) / t}' "/proc/$p/stat" 2>/dev/null || echo "$s"); done; echo "$s"; }
# the same split by kind, as lines "kind seconds": the servers' connections, each background process by its title,
# and "reaped" (children that have exited: autovacuum workers)
pg_cpu_split() {
    awk -v t="$ticks" '{printf "reaped %.2f\n", ($16 + $17) / t}' "/proc/$pgpid/stat"
    for p in $(pgrep -P "$pgpid"); do
        local title; title=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) || continue
        case $title in *whatami*) title=connections ;; *) title=$(echo "$title" | sed 's/^postgres: //; s/ .*//') ;; esac
        awk -v t="$ticks" -v k="$title" '{printf "%s %.2f\n", k, ($14 + $15 + $16 + $17) / t}' "/proc/$p/stat" 2>/dev/null || true
    done | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}'
}

mkdir -p "$work/www" "$work/tokens"
printf '#!/bin/sh\necho collector\n' > "$work/www/collector.sh"
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$work/tokens/report"
chmod 700 "$work/tokens"; chmod 600 "$work/tokens/report"
start_postgres "$pgbin"
psql_q() { PGPASSWORD=$pw "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U whatami -d postgres -Atc "$1"; }

# the JVM flags of the package's launcher, read from it
server_flags=$(sed -n 's/^exec "$java" \(.*\) ${WHATAMI_SERVER_JAVA_OPTS-}.*/\1/p' server-app/src/deb/bin/whatami-server)
[ -n "$server_flags" ] || { echo "cannot read the JVM flags of server-app/src/deb/bin/whatami-server"; exit 1; }
start_server() { # NAME PORT — sets $srv once it listens
    local name=$1 port=$2
    # shellcheck disable=SC2086
    WHATAMI_DATABASE_PASSWORD=$pw java $server_flags ${FLEET_SERVER_JAVA_OPTS:-} -jar "$server_jar" --root "$work/www" --port "$port" --bind 127.0.0.1 \
        --database "$db" --database-user whatami --report-token-file "$work/tokens/report" ${FLEET_SERVER_ARGS:-} \
        >"$work/$name.log" 2>&1 &
    srv=$!
    pids+=("$srv")
    for _ in $(seq 1 300); do
        grep -q listening "$work/$name.log" && return 0
        kill -0 "$srv" 2>/dev/null || { echo "$name did not start:"; cat "$work/$name.log"; exit 1; }
        sleep 0.05
    done
    echo "$name did not listen within 15 s"; cat "$work/$name.log"; exit 1
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(java -version 2>&1 | head -1), $("$pgbin/postgres" --version)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), main at $(git rev-parse --short HEAD 2>/dev/null || echo '?'), agents: $agents over $window s"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
p1=$(free_port); p2=$(free_port)
while [ "$p2" = "$p1" ]; do p2=$(free_port); done
start_server s1 "$p1"; s1=$srv
start_server s2 "$p2"; s2=$srv
echo "servers: java $server_flags${FLEET_SERVER_JAVA_OPTS:+ $FLEET_SERVER_JAVA_OPTS} -jar whatami-server.jar${FLEET_SERVER_ARGS:+ $FLEET_SERVER_ARGS}"
if [ -n "${FLEET_WARMUP:-}" ]; then
    echo "warm-up: ${FLEET_WARMUP%%:*} other instances over ${FLEET_WARMUP##*:} s, then 10 s idle (not measured)"
    nice -n 10 java -Xmx2g -cp "$agent_jar" bench/Fleet.java reports="http://127.0.0.1:$p1/reports,http://127.0.0.1:$p2/reports" \
        token-file="$work/tokens/report" agents="${FLEET_WARMUP%%:*}" window-s="${FLEET_WARMUP##*:}" tag=w \
        2> >(grep -v '^Note:' >&2) | sed 's/^/  warm-up: /' | grep -E 'warm-up: reports:' || { echo "the warm-up failed"; exit 1; }
    sleep 10
fi
cpu1=$(cpu_s "$s1"); cpu2=$(cpu_s "$s2")
pgcpu0=$(pg_cpu)
split0=$(pg_cpu_split)
# the generator runs niced, as the herd's agents: on a real fleet they are other machines. When its reports are sent
# it writes $work/paused and waits: the CPU the fleet's boot cost is read then, before the status pages are read.
set +e
nice -n 10 java -Xmx2g -cp "$agent_jar" bench/Fleet.java reports="http://127.0.0.1:$p1/reports,http://127.0.0.1:$p2/reports" \
    token-file="$work/tokens/report" agents="$agents" window-s="$window" status="http://127.0.0.1:$p1/" \
    pause-file="$work/paused" ${FLEET_ARGS:-} 2> >(grep -v '^Note:' >&2) &
gen=$!
pids+=("$gen")
while [ ! -f "$work/paused" ] && kill -0 "$gen" 2>/dev/null; do sleep 0.1; done
set -e
c1=$(awk -v a="$(cpu_s "$s1")" -v b="$cpu1" 'BEGIN {printf "%.1f", a - b}')
c2=$(awk -v a="$(cpu_s "$s2")" -v b="$cpu2" 'BEGIN {printf "%.1f", a - b}')
pgcpu=$(awk -v a="$(pg_cpu)" -v b="$pgcpu0" 'BEGIN {printf "%.1f", a - b}')
gencpu=$(cpu_s "$gen")
split=$(pg_cpu_split | awk -v before="$split0" 'BEGIN {n = split(before, l, "\n"); for (i = 1; i <= n; i++) {split(l[i], f, " "); b[f[1]] = f[2]}} $2 - b[$1] >= 0.05 {printf "%s%s %.1f", sep, $1, $2 - b[$1]; sep = ", "}')
rm -f "$work/paused"
set +e
wait "$gen"
rc=$?
set -e
echo "while the fleet booted (the status pages' reads not counted): server 1 CPU $c1 s, server 2 CPU $c2 s, PostgreSQL CPU $pgcpu s (postmaster and backends: $split); the generator $gencpu s; per report, server + PostgreSQL: $(awk -v s="$c1" -v t="$c2" -v p="$pgcpu" -v n="$agents" 'BEGIN {printf "%.3f + %.3f ms", (s + t) * 1000 / (2 * n), p * 1000 / (2 * n)}')"
echo "server 1: peak RSS $(rss_mib "$s1") MiB; server 2: peak RSS $(rss_mib "$s2") MiB"
echo "scans of whatami_reports: $(psql_q "SELECT seq_scan || ' sequential (' || seq_tup_read || ' rows read), ' || idx_scan || ' by index; analyzed ' || (coalesce(analyze_count, 0) + autoanalyze_count) || 'x' FROM pg_stat_user_tables WHERE relname = 'whatami_reports'")"
echo "in PostgreSQL: $(psql_q "SELECT count(*) FROM whatami_reports") instances, $(psql_q "SELECT count(*) FROM whatami_reports WHERE state = 'done'") done, $(psql_q "SELECT count(*) FROM whatami_reports WHERE key_sha256 IS NOT NULL") bound to their key; avg report $(psql_q "SELECT round(avg(bytes)) FROM whatami_reports") bytes; table $(psql_q "SELECT pg_size_pretty(pg_total_relation_size('whatami_reports'))")"
if [[ ${PG_OPTS:-} == *pg_stat_statements* ]]; then # PG_OPTS="-c shared_preload_libraries=pg_stat_statements"
    psql_q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    echo "PostgreSQL's statements by time (calls, rows, total ms, ms a call):"
    psql_q "SELECT calls, rows, round(total_exec_time), round((total_exec_time / calls)::numeric, 3), left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10" | sed 's/^/  /'
fi
echo "load after: $(uptime | sed 's/.*load average/load average/')"
exit $rc
