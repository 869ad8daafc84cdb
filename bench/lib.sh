# Shared by the benchmarks that run servers and PostgreSQL (herd.sh, fleet.sh): sourced, not run.
# After sourcing: $server_jar (SERVER_JAR= to run another build's), $agent_jar (built when missing or older than any module's sources), $work (a scratch
# directory removed at exit with every pid in $pids and the PostgreSQL started by start_postgres), free_port, cpu_s,
# rss_mib, and start_postgres.
server_jar=server-app/target/whatami-server.jar
agent_jar=agent-app/target/whatami-agent.jar
if [ ! -f "$agent_jar" ] || [ ! -f "$server_jar" ] \
        || [ -n "$(find ./*/src -newer "$agent_jar" -print -quit)" ] \
        || [ -n "$(find ./*/src -newer "$server_jar" -print -quit)" ]; then
    ./mvnw -B -q -DskipTests package -pl agent-app,server-app -am
fi
server_jar=${SERVER_JAR:-$server_jar} # SERVER_JAR= another build's server, to compare it with this one
work=$(mktemp -d "/tmp/whatami-${bench_name:-bench}.XXXXXX")
chmod 755 "$work" # PostgreSQL (as the postgres user) and nginx's workers (nobody) work in here
pids=()
pg_ctl_cmd=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ ${#pg_ctl_cmd[@]} -gt 0 ]; then (cd "$work/pg" && "${pg_ctl_cmd[@]}" -m fast stop >/dev/null 2>&1) || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    local p=$((20000 + RANDOM % 12000)) # below the kernel's ephemeral ports (32768-): no client socket holds it
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
ticks=$(getconf CLK_TCK)
cpu_s() { awk -v t="$ticks" '{printf "%.1f", ($14 + $15) / t}' "/proc/$1/stat"; }
rss_mib() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }

# start_postgres PGBIN — PostgreSQL as installed (its defaults: synchronous_commit on, fsync on, shared_buffers
# 128 MB) in $work/pg, on 127.0.0.1 only, user whatami with a random password; sets $pgport, $pw, $db and $pgpid.
# PG_OPTS adds settings to its command line (e.g. PG_OPTS="-c shared_buffers=1GB").
start_postgres() {
    local pgbin=$1
    mkdir -p "$work/pg"
    as_pg=()
    if [ "$(id -u)" = 0 ]; then chown postgres: "$work/pg"; as_pg=(runuser -u postgres --); fi
    pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    echo "$pw" > "$work/pg/pwfile"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$work/pg/pwfile"; fi
    pgport=$(free_port)
    pg "${as_pg[@]}" "$pgbin/initdb" -D "$work/pg/data" -U whatami --auth=scram-sha-256 --pwfile="$work/pg/pwfile" \
        -E UTF8 --locale=C >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log"; exit 1; }
    rm -f "$work/pg/pwfile"
    pg_ctl_cmd=("${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -w -t 60)
    pg "${pg_ctl_cmd[@]}" -l "$work/pg/log" -o "-p $pgport -c listen_addresses=127.0.0.1 -k $work/pg ${PG_OPTS:-}" start >/dev/null
    pgpid=$(head -1 "$work/pg/data/postmaster.pid")
    db="jdbc:postgresql://127.0.0.1:$pgport/postgres"
}
pg() { (cd "$work/pg" && "$@"); } # PostgreSQL's tools want a working directory they can read
